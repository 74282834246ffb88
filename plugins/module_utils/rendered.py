# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The record of the config files the collection wrote (README "Hand-edited
config files"), shared by zulip_files (which writes them) and
zulip_rendered_files (which lists the ones edited by hand)."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import tempfile

MANIFEST = "/var/lib/zulip-server/rendered.json"
BACKUP_DIR = "/var/lib/zulip-server/hand-edited"


def read_manifest(path):
    """path -> sha256 from the manifest; empty when there is none yet."""
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        return {}
    return {name: entry["sha256"] for name, entry in data.get("files", {}).items()}


def write_manifest(path, files):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    data = {"comment": "Files the zulip.server collection rendered, with the SHA-256 of what it wrote.",
            "files": {name: {"sha256": files[name]} for name in sorted(files)}}
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".rendered-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256(path):
    """The file's SHA-256, or None when it is not a regular file."""
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return sha256_bytes(f.read())


def backup_stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")


def backup_path(backup_dir, stamp, path):
    return os.path.join(backup_dir, stamp, path.lstrip("/"))


def keep_copy(path, copy):
    """Copy a hand-edited file aside (mode 0700 directories, its mode and times kept)."""
    os.makedirs(os.path.dirname(copy), mode=0o700, exist_ok=True)
    shutil.copy2(path, copy)


def warn_edited(module, path, copy, note):
    """The warning for a file edited by hand since the collection wrote it."""
    verb = "would be" if module.check_mode else "is"
    kept = f" A copy of the edited file {verb} kept in {copy}." if copy else ""
    module.warn(f"{path} was edited by hand since zulip.server last wrote it.{kept} {note}".strip())
