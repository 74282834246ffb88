# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The Node.js a Zulip release pins, read from its ``scripts/lib/install-node``.

Zulip's installer and upgrades run that script, which downloads its pinned
Node.js from nodejs.org unless ``/srv/zulip-node`` already holds it. The
collection installs that same build first (from a mirror or a local file, for
sites without internet access), so the release's script finds nothing to do.
Documentation: ``zulip_node_pin.yml``.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_VERSION_RE = re.compile(r"^\s*version=['\"]?([0-9]+\.[0-9]+\.[0-9]+)['\"]?\s*$", re.MULTILINE)
# One arm of the script's `case $arch in`: the machine name, then its sha256= line.
_ARM_RE = re.compile(r"^\s*(x86_64|aarch64)\)\s*$(.*?)^\s*;;", re.MULTILINE | re.DOTALL)
_SHA_RE = re.compile(r"^\s*sha256=['\"]?([0-9a-fA-F]{64})['\"]?\s*$", re.MULTILINE)
# uname -m -> the architecture names zulip.server.zulip_external_dep takes.
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "aarch64"}


def zulip_node_pin(text):
    """{version, sha256: {amd64, aarch64}} of the Node.js ``text`` (an install-node script) pins."""
    text = "" if text is None else str(text)
    version = _VERSION_RE.findall(text)
    if len(version) != 1:
        raise AnsibleFilterError("install-node: expected one version=X.Y.Z line, found " + str(len(version)))
    sha256 = {}
    for machine, body in _ARM_RE.findall(text):
        found = _SHA_RE.findall(body)
        if len(found) != 1:
            raise AnsibleFilterError(f"install-node: expected one sha256= line for {machine}, found {len(found)}")
        sha256[_ARCHITECTURES[machine]] = found[0].lower()
    if not sha256:
        raise AnsibleFilterError("install-node: no x86_64) or aarch64) case with a sha256= line")
    return {"version": version[0], "sha256": sha256}


class FilterModule:
    """Zulip Node.js filters."""

    def filters(self):
        return {
            "zulip_node_pin": zulip_node_pin,
        }
