#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_secrets
author: zulip.server maintainers
version_added: "0.1.0"
short_description: Read and append to Zulip's secrets file, never changing an existing secret
description:
  - Manages Zulip's secrets file (C(/etc/zulip/zulip-secrets.conf)), an INI file with one C([secrets]) section of
    C(name = value) lines.
  - Like Zulip's C(generate_secrets), the module is strictly append-only. Every requested secret that the file lacks is
    appended as a C(name = value) line; the existing content of the file is kept byte for byte as the start of the new
    content. A C([secrets]) header is written first when the file is missing, empty, or has no C([secrets]) section.
  - A requested secret that is already in the file with a different value fails the task, naming the secret but not the
    values. Existing secrets are never changed, because Zulip breaks when they are (regenerating C(secret_key) ends all
    sessions, C(avatar_salt) loses all avatars, passwords no longer match the services, and so on).
  - The file is replaced atomically (a temporary file in the same directory, then a rename).
  - Returns every secret of the file, so that the caller can share them with the other hosts of the cluster.
options:
  path:
    description:
      - Path of the secrets file. Its directory must exist.
    type: path
    default: /etc/zulip/zulip-secrets.conf
  secrets:
    description:
      - Secrets that must be in the file, name to value.
      - Names are lower-case letters, digits, C(_), C(.) and C(-), not starting with C(.) or C(-).
      - Values are strings (integers are written as their decimal text) without line breaks and without leading or
        trailing whitespace, which the INI format cannot keep.
      - With the default (no secrets) the module only reads the file, and applies O(owner), O(group) and O(mode) if
        the file exists.
    type: dict
    default: {}
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    description: Reports what would be added and changes nothing.
    support: full
  diff_mode:
    description: Shows the file before and after with every value replaced by C(********), plus owner/group/mode changes.
    support: full
  platform:
    description: Any POSIX host.
    platforms: posix
notes:
  - Zulip wants the file owned by C(zulip:zulip) with mode C(0640); pass O(owner), O(group) and O(mode). A file the module
    creates has mode C(0600) until O(mode) is applied, so it is never readable by others in between.
  - The result holds every secret in clear text; use C(no_log) on the task, and on every task that uses the result.
  - Values given in O(secrets) are hidden from the module invocation shown in the result, but the returned RV(secrets)
    holds them unmasked.
  - The file is parsed like Python's C(configparser) (which Zulip uses) parses it, so secret names read from the file are
    lower-cased. Parse errors are reported by line number only.
seealso:
  - plugin: zulip.server.zulip_generate_secrets
    plugin_type: filter
  - plugin: zulip.server.zulip_merge_secrets
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the secrets of this host
  zulip.server.zulip_secrets:
    owner: zulip
    group: zulip
    mode: "0640"
  register: __zulip_base_secrets
  no_log: true

- name: Store the cluster's secrets, adding only the missing ones
  zulip.server.zulip_secrets:
    path: /etc/zulip/zulip-secrets.conf
    secrets: "{{ zulip_secrets }}"
    owner: zulip
    group: zulip
    mode: "0640"
  no_log: true
"""

RETURN = r"""
added:
  description: Names of the secrets appended to the file (or that would be, in check mode), in the order written.
  returned: always
  type: list
  elements: str
  sample: [secret_key, zulip_org_id]
secrets:
  description:
    - Every secret in the file after the run (in check mode, as it would be), name to value.
    - Sensitive. Use C(no_log) on the task and wherever the values are used.
  returned: always
  type: dict
  sample: {"avatar_salt": "3f5c...", "zulip_org_id": "1b9c0e2c-..."}
path:
  description: Path of the secrets file.
  returned: always
  type: str
  sample: /etc/zulip/zulip-secrets.conf
"""

import configparser
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

SECTION = "secrets"
MASK = "********"
# Same rule as the zulip_generate_secrets filter.
NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_.-]*$")


class SecretsFileError(Exception):
    """An error whose message is safe to show (it holds no secret value)."""


def read_bytes(path):
    """Return the file's content, or None if it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def parse(content, path):
    """Parse the secrets file.

    Returns (secrets, sections): the values of the [secrets] section and the
    names of all sections in file order. configparser's own messages quote
    the offending line, which may hold a secret, so they are replaced.
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SecretsFileError(f"{path} is not valid UTF-8 (byte {exc.start})") from None
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as exc:
        raise SecretsFileError(f"{path}: line {exc.lineno} comes before any [section] header") from None
    except configparser.ParsingError as exc:
        lines = ", ".join(str(lineno) for lineno, _line in exc.errors)
        raise SecretsFileError(f"{path}: cannot parse line(s) {lines} (expected 'name = value')") from None
    except configparser.DuplicateOptionError as exc:
        raise SecretsFileError(
            f"{path}: line {exc.lineno}: secret '{exc.option}' appears twice in section [{exc.section}]"
        ) from None
    except configparser.DuplicateSectionError as exc:
        raise SecretsFileError(f"{path}: line {exc.lineno}: section [{exc.section}] appears twice") from None
    except configparser.Error as exc:
        raise SecretsFileError(f"{path}: cannot parse the file ({type(exc).__name__})") from None
    found = dict(parser.items(SECTION)) if parser.has_section(SECTION) else {}
    return found, parser.sections()


def render_masked(secrets):
    """The file as a diff shows it: names only."""
    if not secrets:
        return ""
    lines = [f"[{SECTION}]"] + [f"{name} = {MASK}" for name in secrets]
    return "\n".join(lines) + "\n"


def validate_requested(requested):
    """Return the requested secrets as name -> str, or raise SecretsFileError."""
    bad_names = []
    bad_values = []
    result = {}
    for name, value in requested.items():
        if not isinstance(name, str) or not NAME_RE.match(name):
            bad_names.append(repr(name))
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or "\n" in value or "\r" in value or value != value.strip():
            bad_values.append(name)
            continue
        result[name] = value
    problems = []
    if bad_names:
        problems.append(
            "invalid secret name(s) " + ", ".join(bad_names)
            + " (lower-case letters, digits, '_', '.' and '-'; not starting with '.' or '-')"
        )
    if bad_values:
        problems.append(
            "the value of secret(s) " + ", ".join(bad_values)
            + " must be a string (or integer) without line breaks or leading/trailing whitespace"
        )
    if problems:
        raise SecretsFileError("; ".join(problems))
    return result


def plan(content, path, requested):
    """Work out what to append.

    Returns (existing, added, new_content); new_content is None when nothing
    is appended.
    """
    existing, sections = parse(content or b"", path) if content else ({}, [])
    conflicts = sorted(name for name, value in requested.items() if name in existing and existing[name] != value)
    if conflicts:
        raise SecretsFileError(
            f"{path} already holds a different value for secret(s) {', '.join(conflicts)}; existing secrets are never "
            "changed (Zulip breaks when they are). Remove them from the request, or change the file by hand if you "
            "really mean to."
        )
    added = [name for name in requested if name not in existing]
    if not added:
        return existing, added, None
    if SECTION in sections and sections[-1] != SECTION:
        raise SecretsFileError(
            f"{path}: the [{SECTION}] section is not the last section of the file, so secrets cannot be appended to it"
        )
    parts = [content or b""]
    if parts[0] and not parts[0].endswith(b"\n"):
        parts.append(b"\n")
    if SECTION not in sections:
        parts.append(to_bytes(f"[{SECTION}]\n"))
    for name in added:
        parts.append(to_bytes(f"{name} = {requested[name]}\n"))
    return existing, added, b"".join(parts)


def write_atomically(module, path, content, creating):
    """Write content to a temporary file next to path, then rename it over path."""
    directory = os.path.dirname(path) or "."
    fd, tmp_path = tempfile.mkstemp(prefix=".zulip-secrets-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        # atomic_move gives a new file the mode 0666 & ~umask; a secrets file
        # must not be readable by others even for a moment.
        old_umask = os.umask(0o077) if creating else None
        try:
            module.atomic_move(tmp_path, path, unsafe_writes=module.params["unsafe_writes"])
        finally:
            if old_umask is not None:
                os.umask(old_umask)
    finally:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)


def exit_with_secrets(module, **result):
    """exit_json without masking the returned secrets.

    AnsibleModule replaces every occurrence of a no_log option's values in
    the result with '********', which would corrupt the returned secrets. The
    invocation is masked here instead, and the values are dropped from the
    module's mask list; the caller hides the result with no_log.
    """
    args = dict(module.params)
    args["secrets"] = {name: "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" for name in module.params["secrets"] or {}}
    result["invocation"] = {"module_args": args}
    for value in (module.params["secrets"] or {}).values():
        module.no_log_values.discard(to_native(value, nonstring="simplerepr"))
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/zulip/zulip-secrets.conf"},
            "secrets": {"type": "dict", "default": {}, "no_log": True},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]

    try:
        requested = validate_requested(module.params["secrets"] or {})
        if os.path.isdir(path):
            raise SecretsFileError(f"{path} is a directory")
        content = read_bytes(path)
        if (content is None and requested and not module.check_mode
                and not os.path.isdir(os.path.dirname(path) or ".")):
            # In check mode the directory may be one this same run would create.
            raise SecretsFileError(f"the directory of {path} does not exist")
        existing, added, new_content = plan(content, path, requested)
    except SecretsFileError as exc:
        module.fail_json(msg=str(exc), path=path)
    except OSError as exc:
        module.fail_json(msg=f"cannot read {path}: {exc.strerror}", path=path)

    final = dict(existing)
    for name in added:
        final[name] = requested[name]
    changed = bool(added)

    diffs = []
    if module._diff and added:
        diffs.append({
            "before_header": path,
            "after_header": path,
            "before": render_masked(existing),
            "after": render_masked(final),
        })

    if added and not module.check_mode:
        try:
            write_atomically(module, path, new_content, creating=content is None)
        except OSError as exc:
            module.fail_json(msg=f"cannot write {path}: {exc.strerror}", path=path)

    if content is not None or (added and not module.check_mode):
        attr_diff = {} if module._diff else None
        file_args = module.load_file_common_arguments(module.params)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=attr_diff)
        if attr_diff:
            diffs.append(attr_diff)

    result = {"changed": changed, "added": added, "secrets": final, "path": path}
    if diffs:
        result["diff"] = diffs
    exit_with_secrets(module, **result)


if __name__ == "__main__":
    main()
