"""Make this checkout importable as ansible_collections.zulip.server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"

# lab/env.sh creates this link; create it too when the tests run without it.
_LINK = COLLECTIONS / "ansible_collections" / "zulip" / "server"
if not _LINK.exists():
    _LINK.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(ROOT, _LINK)

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
