# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The options of zulip.server's host probe (module_utils/probe.py), shared by
zulip_probe and zulip_host_state."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  paths:
    description: Paths to look at (not followed when they are links); C(writable) tells whether this user may write
      to one (a read-only mount says no, whatever the mode).
    type: list
    elements: path
    default: []
  read:
    description: Small text files (up to 1 MiB) whose content to return, e.g. a config file a role edits by one line.
    type: list
    elements: path
    default: []
  checksums:
    description: Regular files whose SHA-256 to compute as well (they need not be in O(paths)).
    type: list
    elements: path
    default: []
  units:
    description: systemd units to ask about (one C(systemctl show) for all).
    type: list
    elements: str
    default: []
  users:
    description: Accounts to look up.
    type: list
    elements: str
    default: []
  groups:
    description: Groups to look up.
    type: list
    elements: str
    default: []
  diversions:
    description: Paths whose dpkg diversion to report (C(dpkg-divert --list)).
    type: list
    elements: path
    default: []
  commands:
    description:
      - Read-only commands to run, by name, all at once, each an argv list (no shell) or a dict with C(argv), C(chdir)
        (its working directory) and C(user) (run as this user through C(runuser), with the user's C(HOME)), with
        C(LC_ALL=C). Each answers with its exit code and output; one that cannot be started answers rc 127. They run
        in check mode too, so they must change nothing.
    type: dict
    default: {}
"""
