from __future__ import annotations

import os

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.zulip.server.plugins.action import zulip_pki
from ansible_collections.zulip.server.plugins.module_utils import pki


def params(tmp_path, **over):
    base = {"dir": str(tmp_path / "tls"), "name": "db", "common_name": "db", "subject_alt_names": ["DNS:db"],
            "ca_common_name": "zulip.server PostgreSQL CA (zulip)", "ca_cert": None, "ca_key": None,
            "ca_days": 3650, "days": 730}
    base.update(over)
    return base


def test_first_run_makes_the_ca_and_the_host_files_then_nothing(tmp_path):
    first = zulip_pki.ensure(params(tmp_path), check_mode=False)
    assert first["changed"] and first["ready"]
    assert sorted(os.listdir(tmp_path / "tls")) == [".lock", "ca.crt", "ca.key", "db.crt", "db.key"]
    assert oct(os.stat(tmp_path / "tls").st_mode & 0o777) == "0o700"
    assert "BEGIN CERTIFICATE" in first["ca_cert"] and "PRIVATE KEY" in first["key"]
    second = zulip_pki.ensure(params(tmp_path), check_mode=False)
    assert not second["changed"] and second["cert"] == first["cert"] and second["key"] == first["key"]


def test_a_second_host_shares_the_ca(tmp_path):
    one = zulip_pki.ensure(params(tmp_path), check_mode=False)
    two = zulip_pki.ensure(params(tmp_path, name="db2", common_name="db2", subject_alt_names=["DNS:db2"]), False)
    assert two["ca_cert"] == one["ca_cert"] and two["changed_files"] == [str(tmp_path / "tls" / n) for n in ("db2.key", "db2.crt")]


def test_check_mode_before_the_first_run_writes_nothing(tmp_path):
    result = zulip_pki.ensure(params(tmp_path), check_mode=True)
    assert result == {"ready": False, "changed": True, "changed_files": [str(tmp_path / "tls")]}
    assert not (tmp_path / "tls").exists()


def test_new_names_sign_the_certificate_again_and_check_mode_only_says_so(tmp_path):
    zulip_pki.ensure(params(tmp_path), check_mode=False)
    before = (tmp_path / "tls" / "db.crt").read_bytes()
    preview = zulip_pki.ensure(params(tmp_path, subject_alt_names=["DNS:db", "IP:10.0.0.9"]), check_mode=True)
    assert preview["changed"] and preview["reasons"] == {str(tmp_path / "tls" / "db.crt"): "other names"}
    assert (tmp_path / "tls" / "db.crt").read_bytes() == before
    zulip_pki.ensure(params(tmp_path, subject_alt_names=["DNS:db", "IP:10.0.0.9"]), check_mode=False)
    assert (tmp_path / "tls" / "db.crt").read_bytes() != before


def test_the_operators_ca_signs_and_is_never_written(tmp_path):
    (tmp_path / "own").mkdir()
    key, _ = pki.ensure_key(str(tmp_path / "own" / "ca.key"), "secp384r1", False)
    pki.ensure_cert(str(tmp_path / "own" / "ca.crt"), key, "Own CA", 100, False, is_ca=True)
    stamp = os.stat(tmp_path / "own" / "ca.crt").st_mtime_ns
    result = zulip_pki.ensure(params(tmp_path, ca_cert=str(tmp_path / "own" / "ca.crt"),
                                     ca_key=str(tmp_path / "own" / "ca.key")), check_mode=False)
    assert "ca.crt" not in os.listdir(tmp_path / "tls")
    assert result["ca_cert"] == (tmp_path / "own" / "ca.crt").read_text()
    assert os.stat(tmp_path / "own" / "ca.crt").st_mtime_ns == stamp


def test_an_unreadable_own_ca_fails_and_a_lone_ca_cert_too(tmp_path):
    with pytest.raises(AnsibleActionFail, match="cannot read the CA"):
        zulip_pki.ensure(params(tmp_path, ca_cert=str(tmp_path / "x.crt"), ca_key=str(tmp_path / "x.key")), False)
    with pytest.raises(AnsibleActionFail, match="go together"):
        zulip_pki.ensure(params(tmp_path, ca_cert=str(tmp_path / "x.crt")), False)


def test_files_made_elsewhere_are_returned_as_they_are(tmp_path):
    """A key written in another PEM form (community.crypto's 'EC PRIVATE KEY') is kept byte for byte, so the
    host's copy of it does not change."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    (tmp_path / "tls").mkdir()
    key = ec.generate_private_key(ec.SECP384R1())
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    (tmp_path / "tls" / "db.key").write_bytes(traditional)
    os.chmod(tmp_path / "tls" / "db.key", 0o600)
    result = zulip_pki.ensure(params(tmp_path), check_mode=False)
    assert result["key"] == traditional.decode() and "BEGIN EC PRIVATE KEY" in result["key"]
    assert str(tmp_path / "tls" / "db.key") not in result["changed_files"]
