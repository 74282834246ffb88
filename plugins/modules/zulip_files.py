#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_files
author: zulip.server maintainers
version_added: "0.2.0"
short_description: Write a set of directories, config files and links in one call, keeping hand edits
description:
  - Makes each of O(directories) exist, each of O(files) hold its content, and both have their owner, group and
    mode, each of O(links) point at its target, and removes each of O(absent), in one call per host. A role renders its templates on the controller
    (C(lookup('template'))) and passes them here, instead of one C(file) or C(template) task per path.
  - A file is rewritten (atomically, a temporary file renamed into place) only when its content differs; an owner,
    group or mode that drifted is set without rewriting it.
  - Keeps the record of what the collection wrote (README "Hand-edited config files"), shared with
    M(zulip.server.zulip_rendered_files). A file recorded there whose content no longer matches was edited by hand
    since; before it is rewritten or removed it is copied to O(backup_dir)C(/<UTC time>/<its path>) and a warning
    names it and the copy. Recording a file that already held its content is bookkeeping, not a change. It is not
    reported as one, so that it notifies no handler (a file the collection starts recording restarts no service).
options:
  directories:
    description: Directories to create (with their missing parents, owned by root, mode C(0755)), before O(files).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner (name).
        type: str
        default: root
      group:
        description: Group (name).
        type: str
        default: root
      mode:
        description: Mode, octal, as a string (V("0750")).
        type: str
        default: "0755"
      tag:
        description: A name the result's RV(changed_tags) lists when this directory changed.
        type: str
  files:
    description: The files to write.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path. Its directory must exist (in check mode it may be missing).
        type: path
        required: true
      content:
        description: The whole content of the file.
        type: str
        required: true
      owner:
        description: Owner (name).
        type: str
        default: root
      group:
        description: Group (name).
        type: str
        default: root
      mode:
        description: Mode, octal, as a string (V("0640")).
        type: str
        default: "0644"
      record:
        description: Overrides O(record) for this file (V(false) for one that holds a secret or a key).
        type: bool
      note:
        description: Overrides O(note) for this file.
        type: str
      tag:
        description:
          - A name the result's RV(changed_tags) lists when this file changed, e.g. the service restart it calls for.
            One call can then write files that call for different handlers.
        type: str
  links:
    description: Symbolic links to make, after O(files). A link that points elsewhere is replaced; a file or directory
      in its place is an error.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the link.
        type: path
        required: true
      src:
        description: What the link points at (it need not exist yet).
        type: path
        required: true
      tag:
        description: A name the result's RV(changed_tags) lists when this link changed.
        type: str
  absent:
    description: Absolute paths of files (or links) to remove when they exist.
    type: list
    elements: path
    default: []
  record:
    description:
      - Record the files in O(manifest) and copy hand edits aside. V(false) for files that hold a secret, which must
        not be copied.
    type: bool
    default: true
  manifest:
    description: The record of the files the collection wrote (JSON).
    type: path
    default: /var/lib/zulip-server/rendered.json
  backup_dir:
    description: Where hand-edited files are copied before they are rewritten or removed (mode C(0700)).
    type: path
    default: /var/lib/zulip-server/hand-edited
  note:
    description: Sentence added to each hand-edit warning, e.g. where local changes belong.
    type: str
    default: ""
attributes:
  check_mode:
    description: Reports what would change (and the hand edits) and writes nothing.
    support: full
  diff_mode:
    description: One diff per file whose content or presence changes.
    support: full
  platform:
    description: Any POSIX host.
    platforms: posix
"""

EXAMPLES = r"""
- name: Render settings.py and uwsgi.ini
  zulip.server.zulip_files:
    files:
      - path: /etc/zulip/settings.py
        content: "{{ lookup('ansible.builtin.template', 'settings.py.j2') }}"
        owner: zulip
        group: zulip
      - path: /etc/zulip/uwsgi.ini
        content: "{{ lookup('ansible.builtin.template', 'uwsgi.ini.j2') }}"
    absent: [/etc/cron.d/zulip-once-job]
    note: Put local settings in zulip_app_frontend_settings_extra.
"""

RETURN = r"""
changed_files:
  description: The directories, files and links created, written, given new attributes, or removed (as they would
    be, in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [/etc/zulip/settings.py]
changed_tags:
  description: The O(files[].tag) (and directories' and links') of what changed, sorted, each once.
  returned: always
  type: list
  elements: str
  sample: [restart]
edited:
  description: Recorded files that were edited by hand and are rewritten or removed by this run, sorted.
  returned: always
  type: list
  elements: str
backups:
  description: For each hand-edited file, where its copy was (or, in check mode, would be) written.
  returned: always
  type: dict
"""

import grp
import os
import pwd
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.zulip.server.plugins.module_utils.rendered import (
    BACKUP_DIR, MANIFEST, backup_path, backup_stamp, keep_copy, read_manifest, sha256_bytes,
    warn_edited, write_manifest)


def read(path):
    """The file's bytes, or None when there is none."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def ids(module, spec):
    """(uid, gid) for the file's owner and group; None for a name unknown in check mode
    (a user the same run creates)."""
    out = []
    for lookup, name in ((pwd.getpwnam, spec["owner"]), (grp.getgrnam, spec["group"])):
        try:
            out.append(lookup(name)[2])
        except KeyError:
            if not module.check_mode:
                module.fail_json(msg=f"{spec['path']}: no such user or group: {name}")
            out.append(None)
    return tuple(out)


def mode_of(module, spec):
    try:
        return int(spec["mode"], 8)
    except ValueError:
        module.fail_json(msg=f"{spec['path']}: mode must be octal, e.g. 0644: {spec['mode']}")


def write(path, data, uid, gid, mode):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def diff(path, before, after):
    return {"before_header": path, "after_header": path,
            "before": "" if before is None else before.decode(errors="replace"),
            "after": "" if after is None else after.decode(errors="replace")}


class Run:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        any_recorded = self.p["record"] or any(spec.get("record") for spec in self.p["files"])
        self.record = read_manifest(self.p["manifest"]) if any_recorded else None
        self.new_record = None if self.record is None else dict(self.record)
        self.stamp = backup_stamp()
        self.result = {"changed_files": [], "edited": [], "backups": {}}
        self.tags = set()
        self.diffs = []

    def recorded(self, spec):
        """Whether this file is recorded (the call's O(record), unless the file says otherwise)."""
        return self.p["record"] if spec.get("record") is None else spec["record"]

    def keep_hand_edit(self, path, current, note=None):
        """Copy a recorded file that was edited by hand aside before it is replaced."""
        if self.record is None or path not in self.record or sha256_bytes(current) == self.record[path]:
            return
        copy = backup_path(self.p["backup_dir"], self.stamp, path)
        if not self.module.check_mode:
            os.makedirs(self.p["backup_dir"], mode=0o700, exist_ok=True)
            keep_copy(path, copy)
        self.result["edited"].append(path)
        self.result["backups"][path] = copy
        warn_edited(self.module, path, copy, self.p["note"] if note is None else note)

    def attributes(self, path, mode, uid, gid):
        """Set a drifted mode, owner or group; True when one had drifted."""
        st = os.stat(path)
        if (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (mode, uid, gid):
            return False
        if not self.module.check_mode:
            os.chown(path, uid, gid)
            os.chmod(path, mode)
        return True

    def directory(self, spec):
        path = spec["path"]
        mode = mode_of(self.module, spec)
        uid, gid = ids(self.module, spec)
        if not os.path.isdir(path):
            if os.path.lexists(path):
                self.module.fail_json(msg=f"{path}: exists and is not a directory")
            self.result["changed_files"].append(path)
            if not self.module.check_mode:
                os.makedirs(path)
                os.chown(path, uid, gid)
                os.chmod(path, mode)
        elif self.attributes(path, mode, uid, gid):
            self.result["changed_files"].append(path)

    def ensure(self, spec):
        path = spec["path"]
        data = spec["content"].encode()
        mode = mode_of(self.module, spec)
        uid, gid = ids(self.module, spec)
        current = read(path)
        recorded = self.recorded(spec)
        if current != data:
            if current is not None and recorded:
                self.keep_hand_edit(path, current, spec.get("note"))
            self.diffs.append(diff(path, current, data))
            self.result["changed_files"].append(path)
            if not self.module.check_mode:
                if not os.path.isdir(os.path.dirname(path)):  # not among directories either
                    self.module.fail_json(msg=f"{path}: its directory does not exist")
                write(path, data, uid, gid, mode)
        elif self.attributes(path, mode, uid, gid):
            self.result["changed_files"].append(path)
        if self.new_record is not None and recorded:
            self.new_record[path] = sha256_bytes(data)

    def link(self, spec):
        path, src = spec["path"], spec["src"]
        current = os.readlink(path) if os.path.islink(path) else None
        if current == src:
            return
        if current is None and os.path.lexists(path):
            self.module.fail_json(msg=f"{path}: exists and is not a symbolic link")
        self.diffs.append({"before_header": path, "after_header": path,
                           "before": "" if current is None else f"-> {current}\n", "after": f"-> {src}\n"})
        self.result["changed_files"].append(path)
        if not self.module.check_mode:
            if not os.path.isdir(os.path.dirname(path)):
                self.module.fail_json(msg=f"{path}: its directory does not exist")
            tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.link")
            os.symlink(src, tmp)
            os.replace(tmp, path)

    def remove(self, path):
        current = read(path) if not os.path.islink(path) else os.readlink(path).encode()
        if os.path.lexists(path):
            self.keep_hand_edit(path, current)
            self.diffs.append(diff(path, current, None))
            self.result["changed_files"].append(path)
            if not self.module.check_mode:
                os.unlink(path)
        if self.new_record is not None:
            self.new_record.pop(path, None)

    def tagged(self, method, spec):
        before = len(self.result["changed_files"])
        method(spec)
        if len(self.result["changed_files"]) > before and spec.get("tag"):
            self.tags.add(spec["tag"])

    def run(self):
        for spec in self.p["directories"]:
            self.tagged(self.directory, spec)
        for spec in self.p["files"]:
            self.tagged(self.ensure, spec)
        for spec in self.p["links"]:
            self.tagged(self.link, spec)
        for path in self.p["absent"]:
            self.remove(path)
        recorded_changed = self.new_record is not None and (
            self.new_record != self.record or not os.path.exists(self.p["manifest"]))
        if recorded_changed and not self.module.check_mode:
            write_manifest(self.p["manifest"], self.new_record)
        self.result["changed_files"].sort()
        self.result["changed_tags"] = sorted(self.tags)
        self.result["edited"].sort()
        self.result["changed"] = bool(self.result["changed_files"])
        if self.module._diff and self.diffs:
            self.result["diff"] = self.diffs
        return self.result


def main():
    module = AnsibleModule(
        argument_spec={
            "directories": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "owner": {"type": "str", "default": "root"},
                "group": {"type": "str", "default": "root"},
                "mode": {"type": "str", "default": "0755"},
                "tag": {"type": "str"},
            }},
            "files": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "content": {"type": "str", "required": True},
                "owner": {"type": "str", "default": "root"},
                "group": {"type": "str", "default": "root"},
                "mode": {"type": "str", "default": "0644"},
                "record": {"type": "bool"},
                "note": {"type": "str"},
                "tag": {"type": "str"},
            }},
            "links": {"type": "list", "elements": "dict", "default": [], "options": {
                "path": {"type": "path", "required": True},
                "src": {"type": "path", "required": True},
                "tag": {"type": "str"},
            }},
            "absent": {"type": "list", "elements": "path", "default": []},
            "record": {"type": "bool", "default": True},
            "manifest": {"type": "path", "default": MANIFEST},
            "backup_dir": {"type": "path", "default": BACKUP_DIR},
            "note": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    paths = [d["path"] for d in module.params["directories"] + module.params["files"] + module.params["links"]]
    paths += module.params["absent"]
    for path in paths:
        if not os.path.isabs(path):
            module.fail_json(msg=f"paths must be absolute: {path}")
    if len(set(paths)) != len(paths):
        module.fail_json(msg="a path is named twice in directories, files and absent")
    try:
        result = Run(module).run()
    except OSError as e:
        module.fail_json(msg=str(e))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
