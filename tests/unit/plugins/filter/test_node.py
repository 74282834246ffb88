from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.zulip.server.plugins.filter import node
from ansible_collections.zulip.server.plugins.filter.node import zulip_node_pin

AMD = "a" * 64
ARM = "B" * 64
# The shape of Zulip 9's scripts/lib/install-node.
SCRIPT = f"""#!/usr/bin/env bash
set -euo pipefail

version=20.12.2
arch="$(uname -m)"

case $arch in
    x86_64)
        tarball="node-v$version-linux-x64.tar.xz"
        sha256={AMD}
        ;;

    aarch64)
        tarball="node-v$version-linux-arm64.tar.xz"
        sha256={ARM}
        ;;
esac

check_version() {{
    out="$(node --version)" && [ "$out" = "v$version" ]
}}
"""


def test_filter_module_lists_the_filter():
    assert sorted(node.FilterModule().filters()) == ["zulip_node_pin"]


def test_the_version_and_each_architectures_checksum():
    assert zulip_node_pin(SCRIPT) == {"version": "20.12.2", "sha256": {"amd64": AMD, "aarch64": ARM.lower()}}


def test_one_architecture_is_enough():
    only_amd = SCRIPT.split("    aarch64)")[0] + "esac\n"
    assert zulip_node_pin(only_amd)["sha256"] == {"amd64": AMD}


@pytest.mark.parametrize(("text", "message"), [
    ("", "expected one version=X.Y.Z line, found 0"),
    (SCRIPT.replace("version=20.12.2", "version=20.12.2\nversion=22.0.0"), "found 2"),
    (SCRIPT.replace(f"sha256={AMD}", "sha256=deadbeef"), "one sha256= line for x86_64, found 0"),
    (SCRIPT.replace("x86_64)", "i686)").replace("aarch64)", "armv7l)"), "no x86_64) or aarch64) case"),
], ids=["empty", "two-versions", "short-checksum", "no-known-arm"])
def test_a_script_of_another_shape_is_refused(text, message):
    with pytest.raises(AnsibleFilterError, match=message.replace(")", r"\)")):
        zulip_node_pin(text)
