#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_rendered_files
author: zulip.server maintainers
version_added: "0.1.0"
short_description: Remember the config files the collection wrote, and find the ones edited by hand since
description:
  - Keeps a manifest on the host (O(manifest), JSON) of the files the collection's roles render, with the SHA-256 of
    what they wrote. A file whose content no longer matches its recorded checksum was edited by hand since.
  - O(state=recorded) records the current SHA-256 of each of O(paths) (run it after rendering them). Paths that do not
    exist are dropped from the manifest.
  - O(state=checked) compares the recorded files (all of them, or only O(paths)) with their content and warns about
    each one edited by hand. With O(backup), each such file is first copied aside, so a run that rewrites it
    loses nothing.
  - Files that are not in the manifest (never written by the collection, or written before the manifest existed) are
    never reported. A recorded file that was removed is not reported either.
options:
  state:
    description:
      - V(checked) reports hand-edited files (and copies them aside with O(backup)).
      - V(recorded) records the SHA-256 of O(paths) as they are now.
    type: str
    required: true
    choices: [checked, recorded]
  paths:
    description:
      - Absolute paths of the files. Required with O(state=recorded).
      - With O(state=checked), only these recorded files are compared; default all recorded files.
    type: list
    elements: path
  manifest:
    description: The manifest file. O(state=recorded) creates it (mode C(0644)) and its directory (mode C(0755)).
    type: path
    default: /var/lib/zulip-server/rendered.json
  backup:
    description:
      - With O(state=checked), copy each hand-edited file to O(backup_dir)C(/<UTC time>/<its absolute path>) before
        it is reported, keeping its mode and times, so a run that rewrites it loses nothing.
    type: bool
    default: false
  backup_dir:
    description: Where O(backup) copies hand-edited files (created with mode C(0700)).
    type: path
    default: /var/lib/zulip-server/hand-edited
  note:
    description:
      - Sentence added to each warning, e.g. what this run does with the file and where local changes belong.
    type: str
    default: ""
attributes:
  check_mode:
    description: Reports what would be recorded or copied (and the warnings), and writes nothing.
    support: full
  diff_mode:
    description: No diff is returned; the template task that rewrites a file shows its diff.
    support: none
  platform:
    description: Any POSIX host.
    platforms: posix
notes:
  - The manifest is rewritten atomically (a temporary file renamed into place).
"""

EXAMPLES = r"""
- name: List (and keep a copy of) the files edited by hand since the last run
  zulip.server.zulip_rendered_files:
    state: checked
    paths: [/etc/zulip/zulip.conf]
    backup: true
    note: This run rewrites it; put local changes in zulip_base_conf_extra.

- name: Render /etc/zulip/zulip.conf
  ansible.builtin.template:
    src: zulip.conf.j2
    dest: /etc/zulip/zulip.conf
    mode: "0644"

- name: Remember what was written
  zulip.server.zulip_rendered_files:
    state: recorded
    paths: [/etc/zulip/zulip.conf]
"""

RETURN = r"""
edited:
  description: Recorded files whose content differs from what the collection wrote, sorted.
  returned: state is checked
  type: list
  elements: str
  sample: [/etc/zulip/settings.py]
backups:
  description: For each hand-edited file, where its copy was (or, in check mode, would be) written.
  returned: state is checked and backup is true
  type: dict
  sample: {"/etc/zulip/settings.py": "/var/lib/zulip-server/hand-edited/2025-01-31T14-05-09Z/etc/zulip/settings.py"}
recorded:
  description: The manifest's files and checksums after the run (as they would be, in check mode).
  returned: state is recorded
  type: dict
  sample: {"/etc/zulip/zulip.conf": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.zulip.server.plugins.module_utils.rendered import (
    BACKUP_DIR, MANIFEST, backup_path, backup_stamp, keep_copy, read_manifest, sha256, warn_edited, write_manifest)


def edited_files(module, recorded, paths=None):
    """Recorded files (among paths, when given) that exist and differ from their record."""
    names = recorded if paths is None else [p for p in paths if p in recorded]
    return sorted(p for p in names if sha256(p) not in (None, recorded[p]))


def check(module, p):
    recorded = read_manifest(p["manifest"])
    edited = edited_files(module, recorded, p["paths"])
    result = {"changed": False, "edited": edited}
    if p["backup"]:
        stamp = backup_stamp()
        result["backups"] = {path: backup_path(p["backup_dir"], stamp, path) for path in edited}
        result["changed"] = bool(edited)
        if edited and not module.check_mode:
            os.makedirs(p["backup_dir"], mode=0o700, exist_ok=True)
            for path, copy in result["backups"].items():
                keep_copy(path, copy)
    for path in edited:
        warn_edited(module, path, result.get("backups", {}).get(path), p["note"])
    return result


def record(module, p):
    recorded = read_manifest(p["manifest"])
    files = dict(recorded)
    for path in p["paths"]:
        checksum = sha256(path)
        if checksum is None:
            files.pop(path, None)
        else:
            files[path] = checksum
    changed = files != recorded or not os.path.exists(p["manifest"])
    if changed and not module.check_mode:
        write_manifest(p["manifest"], files)
    return {"changed": changed, "recorded": files}


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "required": True, "choices": ["checked", "recorded"]},
            "paths": {"type": "list", "elements": "path"},
            "manifest": {"type": "path", "default": MANIFEST},
            "backup": {"type": "bool", "default": False},
            "backup_dir": {"type": "path", "default": BACKUP_DIR},
            "note": {"type": "str", "default": ""},
        },
        required_if=[("state", "recorded", ["paths"])],
        supports_check_mode=True,
    )
    p = module.params
    for path in p["paths"] or []:
        if not os.path.isabs(path):
            module.fail_json(msg=f"paths must be absolute: {path}")
    try:
        result = check(module, p) if p["state"] == "checked" else record(module, p)
    except (OSError, ValueError, KeyError) as e:
        module.fail_json(msg=f"{p['manifest']}: {e}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
