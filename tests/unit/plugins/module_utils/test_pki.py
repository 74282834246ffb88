from __future__ import annotations

import datetime
import os

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from ansible_collections.zulip.server.plugins.module_utils import pki


def ca(tmp_path):
    key, _ = pki.ensure_key(str(tmp_path / "ca.key"), "secp384r1", False)
    cert, _, _ = pki.ensure_cert(str(tmp_path / "ca.crt"), key, "Test CA", 3650, False, is_ca=True)
    return key, cert


def test_a_key_is_made_once_private_and_kept(tmp_path):
    path = str(tmp_path / "k.key")
    key, changed = pki.ensure_key(path, "rsa2048", False)
    assert changed and os.stat(path).st_mode & 0o777 == 0o600
    again, changed = pki.ensure_key(path, "rsa2048", False)
    assert not changed and pki.pem_key(again) == pki.pem_key(key)


def test_a_key_of_another_type_or_unreadable_is_replaced(tmp_path):
    path = str(tmp_path / "k.key")
    pki.ensure_key(path, "rsa2048", False)
    assert pki.ensure_key(path, "secp384r1", False)[1]
    (tmp_path / "k.key").write_text("not a key")
    assert pki.ensure_key(path, "secp384r1", False)[1]


def test_a_drifted_key_mode_is_set_back(tmp_path):
    path = str(tmp_path / "k.key")
    pki.ensure_key(path, "secp384r1", False)
    os.chmod(path, 0o644)
    assert pki.ensure_key(path, "secp384r1", False)[1] and os.stat(path).st_mode & 0o777 == 0o600


def test_check_mode_writes_nothing(tmp_path):
    path = str(tmp_path / "k.key")
    key, changed = pki.ensure_key(path, "secp384r1", True)
    assert changed and not os.path.exists(path)
    cert, changed, reason = pki.ensure_cert(str(tmp_path / "c.crt"), key, "x", 10, True)
    assert changed and reason == "missing" and not os.path.exists(tmp_path / "c.crt")


def test_ca_and_signed_certificate_are_kept_on_a_second_run(tmp_path):
    ca_key, ca_cert = ca(tmp_path)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key, _ = pki.ensure_key(str(tmp_path / "h.key"), "secp384r1", False)
    args = dict(sans=["DNS:db", "IP:10.0.0.5"], issuer=ca_cert, issuer_key=ca_key, eku=pki.SERVER_CLIENT_EKU)
    cert, changed, reason = pki.ensure_cert(str(tmp_path / "h.crt"), key, "db", 730, False, **args)
    assert changed and reason == "missing" and cert.issuer == ca_cert.subject
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["db"] and str(names.get_values_for_type(x509.IPAddress)[0]) == "10.0.0.5"
    assert pki.ensure_cert(str(tmp_path / "h.crt"), key, "db", 730, False, **args)[1:] == (False, None)


@pytest.mark.parametrize(("change", "reason"), [
    ({"sans": ["DNS:db", "IP:10.0.0.6"]}, "other names"),
    ({"common_name": "db2"}, "another subject"),
    ({"new_key": True}, "made for another key"),
    ({"other_ca": True}, "not signed by the CA"),
])
def test_a_certificate_that_no_longer_fits_is_made_again(tmp_path, change, reason):
    ca_key, ca_cert = ca(tmp_path)
    key, _ = pki.ensure_key(str(tmp_path / "h.key"), "secp384r1", False)
    args = dict(sans=["DNS:db", "IP:10.0.0.5"], issuer=ca_cert, issuer_key=ca_key, eku=pki.SERVER_CLIENT_EKU)
    pki.ensure_cert(str(tmp_path / "h.crt"), key, "db", 730, False, **args)
    name = change.get("common_name", "db")
    if "sans" in change:
        args["sans"] = change["sans"]
    if change.get("new_key"):
        os.unlink(tmp_path / "h.key")
        key, _ = pki.ensure_key(str(tmp_path / "h.key"), "secp384r1", False)
    if change.get("other_ca"):
        (tmp_path / "other").mkdir()
        args["issuer_key"], args["issuer"] = ca(tmp_path / "other")
    assert pki.ensure_cert(str(tmp_path / "h.crt"), key, name, 730, False, **args)[1:] == (True, reason)


def test_a_certificate_near_its_end_is_renewed(tmp_path):
    key, _ = pki.ensure_key(str(tmp_path / "k.key"), "rsa2048", False)
    cert, _, _ = pki.ensure_cert(str(tmp_path / "c.crt"), key, "zulip.example.com", pki.RENEW_DAYS - 1, False,
                                 sans=["DNS:zulip.example.com"])
    assert pki.not_after(cert) - datetime.datetime.now(datetime.timezone.utc) < datetime.timedelta(days=pki.RENEW_DAYS)
    assert pki.ensure_cert(str(tmp_path / "c.crt"), key, "zulip.example.com", 3650, False,
                           sans=["DNS:zulip.example.com"])[2] == "expires soon"


def test_bare_names_are_dns_unless_addresses():
    names = pki.general_names(["db", "10.1.2.3", "::1", "DNS:10.0.0.1.example"])
    assert [type(n).__name__ for n in names] == ["DNSName", "IPAddress", "IPAddress", "DNSName"]


def test_self_signed_subject_is_the_common_name(tmp_path):
    key, _ = pki.ensure_key(str(tmp_path / "k.key"), "rsa2048", False)
    cert, _, _ = pki.ensure_cert(str(tmp_path / "c.crt"), key, "zulip.example.com", 3650, False)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "zulip.example.com"
    assert cert.issuer == cert.subject
