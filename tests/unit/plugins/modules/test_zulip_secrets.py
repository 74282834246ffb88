from __future__ import annotations

import configparser
import grp
import os
import pwd
import stat

import pytest

from ansible_collections.zulip.server.plugins.modules import zulip_secrets

SECRET_A = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6abcd"
SECRET_B = "Zx9!@#$%^&*(-_=+)q"


@pytest.fixture
def run(run_module):
    def _run(args, **kwargs):
        return run_module(zulip_secrets, args, **kwargs)

    return _run


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def parsed(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return dict(parser.items("secrets"))


def test_creates_file_with_header(run, tmp_path):
    path = tmp_path / "zulip-secrets.conf"
    result = run({"path": str(path), "secrets": {"shared_secret": SECRET_A, "secret_key": SECRET_B}})
    assert result["_rc"] == 0
    assert result["changed"] is True
    assert result["added"] == ["shared_secret", "secret_key"]
    assert result["secrets"] == {"shared_secret": SECRET_A, "secret_key": SECRET_B}
    assert read(path) == f"[secrets]\nshared_secret = {SECRET_A}\nsecret_key = {SECRET_B}\n".encode()
    assert parsed(path) == {"shared_secret": SECRET_A, "secret_key": SECRET_B}
    # created private; the requested mode is applied afterwards
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_returned_secrets_not_masked_but_invocation_is(run, tmp_path):
    path = tmp_path / "s.conf"
    result = run({"path": str(path), "secrets": {"shared_secret": SECRET_A}})
    assert result["secrets"]["shared_secret"] == SECRET_A
    assert result["invocation"]["module_args"]["secrets"] == {"shared_secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert result["_raw"].count(SECRET_A) == 1


def test_append_only_keeps_existing_bytes(run, tmp_path):
    path = tmp_path / "s.conf"
    original = b"# managed by hand\n[secrets]\navatar_salt = old-salt\nshared_secret=keep\n"
    path.write_bytes(original)
    result = run({"path": str(path), "secrets": {"shared_secret": "keep", "camo_key": "newcamo"}})
    assert result["changed"] is True
    assert result["added"] == ["camo_key"]
    content = read(path)
    assert content.startswith(original)
    assert content == original + b"camo_key = newcamo\n"
    assert result["secrets"] == {"avatar_salt": "old-salt", "shared_secret": "keep", "camo_key": "newcamo"}


def test_existing_without_trailing_newline(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"[secrets]\na = 1")
    run({"path": str(path), "secrets": {"b": "2"}})
    assert read(path) == b"[secrets]\na = 1\nb = 2\n"


def test_empty_file_gets_header(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"")
    run({"path": str(path), "secrets": {"b": "2"}})
    assert read(path) == b"[secrets]\nb = 2\n"


def test_file_without_secrets_section_gets_header(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"# only a comment\n")
    run({"path": str(path), "secrets": {"b": "2"}})
    assert read(path) == b"# only a comment\n[secrets]\nb = 2\n"


def test_secrets_section_not_last_fails(run, tmp_path):
    path = tmp_path / "s.conf"
    original = b"[secrets]\na = 1\n[other]\nx = y\n"
    path.write_bytes(original)
    result = run({"path": str(path), "secrets": {"b": "2"}})
    assert result["failed"] is True
    assert "not the last section" in result["msg"]
    assert read(path) == original


def test_idempotent(run, tmp_path):
    path = tmp_path / "s.conf"
    args = {"path": str(path), "secrets": {"a": SECRET_A}}
    run(args)
    before = read(path)
    result = run(args)
    assert result["changed"] is False
    assert result["added"] == []
    assert read(path) == before


def test_conflict_fails_without_values(run, tmp_path):
    path = tmp_path / "s.conf"
    original = b"[secrets]\nshared_secret = OLD-VALUE\nsecret_key = OTHER-OLD\n"
    path.write_bytes(original)
    result = run({
        "path": str(path),
        "secrets": {"shared_secret": "NEW-VALUE", "secret_key": "OTHER-NEW", "fresh": "FRESH-VALUE"},
    })
    assert result["failed"] is True
    assert "secret_key, shared_secret" in result["msg"]
    assert "never changed" in result["msg"]
    for value in ("OLD-VALUE", "NEW-VALUE", "OTHER-OLD", "OTHER-NEW", "FRESH-VALUE"):
        assert value not in result["_raw"]
    assert read(path) == original


def test_read_only(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"[secrets]\nA_Mixed = 1\nb = two words\n")
    result = run({"path": str(path)})
    assert result["changed"] is False
    assert result["added"] == []
    # configparser (which Zulip uses) lower-cases names
    assert result["secrets"] == {"a_mixed": "1", "b": "two words"}


def test_missing_file_nothing_requested(run, tmp_path):
    path = tmp_path / "absent.conf"
    result = run({"path": str(path), "mode": "0640"})
    assert result["changed"] is False
    assert result["secrets"] == {}
    assert not path.exists()


def test_mode_applied_on_read(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"[secrets]\na = 1\n")
    os.chmod(path, 0o644)
    result = run({"path": str(path), "mode": "0640"})
    assert result["changed"] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert run({"path": str(path), "mode": "0640"})["changed"] is False


def test_owner_group_mode_on_create(run, tmp_path):
    path = tmp_path / "s.conf"
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    result = run({"path": str(path), "secrets": {"a": "1"}, "owner": user, "group": group, "mode": "0640"})
    assert result["changed"] is True
    info = os.stat(path)
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert (info.st_uid, info.st_gid) == (os.getuid(), os.getgid())


def test_existing_mode_kept_on_append(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"[secrets]\na = 1\n")
    os.chmod(path, 0o640)
    run({"path": str(path), "secrets": {"b": "2"}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_check_mode_writes_nothing(run, tmp_path):
    path = tmp_path / "s.conf"
    original = b"[secrets]\na = 1\n"
    path.write_bytes(original)
    result = run({"path": str(path), "secrets": {"a": "1", "b": "2"}}, check_mode=True)
    assert result["changed"] is True
    assert result["added"] == ["b"]
    assert result["secrets"] == {"a": "1", "b": "2"}
    assert read(path) == original


def test_check_mode_missing_file(run, tmp_path):
    path = tmp_path / "s.conf"
    result = run({"path": str(path), "secrets": {"b": "2"}, "mode": "0640"}, check_mode=True)
    assert result["changed"] is True
    assert result["added"] == ["b"]
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_diff_masks_values(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"[secrets]\na = SECRET-ONE\n")
    result = run({"path": str(path), "secrets": {"b": "SECRET-TWO"}}, diff=True)
    diff = result["diff"][0]
    assert diff["before"] == "[secrets]\na = ********\n"
    assert diff["after"] == "[secrets]\na = ********\nb = ********\n"
    assert "SECRET-ONE" not in str(result["diff"])
    assert "SECRET-TWO" not in str(result["diff"])


def test_no_diff_when_unchanged(run, tmp_path):
    path = tmp_path / "s.conf"
    path.write_bytes(b"[secrets]\na = 1\n")
    result = run({"path": str(path), "secrets": {"a": "1"}}, diff=True)
    assert "diff" not in result


def test_integer_value_written_as_text(run, tmp_path):
    path = tmp_path / "s.conf"
    result = run({"path": str(path), "secrets": {"port_like": 1234}})
    assert result["secrets"] == {"port_like": "1234"}
    assert parsed(path) == {"port_like": "1234"}


@pytest.mark.parametrize(
    "secrets, fragment",
    [
        ({"Bad": "x"}, "invalid secret name"),
        ({"a=b": "x"}, "invalid secret name"),
        ({"a": "line\nbreak"}, "secret(s) a must be"),
        ({"a": " padded"}, "secret(s) a must be"),
        ({"a": True}, "secret(s) a must be"),
        ({"a": ["x"]}, "secret(s) a must be"),
    ],
)
def test_invalid_request(run, tmp_path, secrets, fragment):
    path = tmp_path / "s.conf"
    result = run({"path": str(path), "secrets": secrets})
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert not path.exists()


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"a = TOP-SECRET\n", "line 1 comes before any [section]"),
        (b"[secrets]\nTOP-SECRET-LINE\n", "cannot parse line(s) 2"),
        (b"[secrets]\na = TOP-SECRET\na = TOP-SECRET\n", "secret 'a' appears twice"),
        (b"[secrets]\n[secrets]\n", "section [secrets] appears twice"),
        (b"[secrets]\na = \xff\n", "not valid UTF-8"),
    ],
)
def test_unparsable_file_reported_without_content(run, tmp_path, content, fragment):
    path = tmp_path / "s.conf"
    path.write_bytes(content)
    result = run({"path": str(path)})
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert "TOP-SECRET" not in result["_raw"]


def test_missing_directory(run, tmp_path):
    result = run({"path": str(tmp_path / "nope" / "s.conf"), "secrets": {"a": "1"}})
    assert result["failed"] is True
    assert "does not exist" in result["msg"]


def test_no_temp_files_left(run, tmp_path):
    path = tmp_path / "s.conf"
    run({"path": str(path), "secrets": {"a": "1"}})
    run({"path": str(path), "secrets": {"b": "2"}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.conf"]


def test_check_mode_missing_directory_previews(run, tmp_path):
    # A fresh host in check mode: /etc/zulip is one this same run would create.
    path = tmp_path / "nope" / "s.conf"
    result = run({"path": str(path), "secrets": {"a": "1"}}, check_mode=True)
    assert result.get("failed") is not True
    assert result["changed"] is True and result["added"] == ["a"]
    assert not path.parent.exists()
