from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.zulip.server.plugins.lookup.zulip_sha256 import LookupModule


def test_digest_of_each_file(tmp_path):
    (tmp_path / "a").write_bytes(b"abc")
    (tmp_path / "b").write_bytes(b"")
    assert LookupModule().run([str(tmp_path / "a"), str(tmp_path / "b")]) == [
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(AnsibleLookupError, match="cannot read .*missing"):
        LookupModule().run([str(tmp_path / "missing")])
