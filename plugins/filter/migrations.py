# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Read the output of Django's ``manage.py showmigrations``.

Every Zulip release (and any Django project) prints its migrations per app::

    zerver
     [X] 0001_initial
     [ ] 0002_message_edit_history

Upgrades and rollbacks compare what one deployment knows with what the
database has applied (run by another deployment), to refuse a version that
does not know the database's schema. Documentation: ``zulip_showmigrations.yml``.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# " [X] 0001_initial", " [ ] 0002_x", " [-] 0003_squashed (2 squashed migrations)"
_MIGRATION_RE = re.compile(r"^\s+\[(?P<mark>[X \-])\]\s+(?P<name>\S+)")
_APP_RE = re.compile(r"^(?P<app>[A-Za-z_][A-Za-z0-9_]*)\s*$")


def zulip_showmigrations(text):
    """Return {"known": [...], "applied": [...], "unapplied": [...]} of "app.migration" names."""
    if not isinstance(text, str):
        raise AnsibleFilterError(f"zulip_showmigrations: expected the command's output as a string, got {type(text).__name__}")
    app = None
    known, applied, unapplied = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.strip() == "(no migrations)":
            continue
        match = _MIGRATION_RE.match(line)
        if match:
            if app is None:
                raise AnsibleFilterError(f"zulip_showmigrations: line {number} lists a migration before any app: {line!r}")
            name = f"{app}.{match.group('name')}"
            known.append(name)
            # [-]: a squash Django counts as applied (all it replaces is), not recorded yet.
            (unapplied if match.group("mark") == " " else applied).append(name)
            continue
        match = _APP_RE.match(line)
        if match:
            app = match.group("app")
            continue
        raise AnsibleFilterError(f"zulip_showmigrations: line {number} is not showmigrations output: {line!r}")
    return {"known": known, "applied": applied, "unapplied": unapplied}


class FilterModule:
    def filters(self):
        return {"zulip_showmigrations": zulip_showmigrations}
