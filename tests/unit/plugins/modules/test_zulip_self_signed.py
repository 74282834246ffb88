from __future__ import annotations

import os

from ansible_collections.zulip.server.plugins.modules import zulip_self_signed


def args(tmp_path, name="zulip.example.com"):
    return {"key": str(tmp_path / "zulip.key"), "cert": str(tmp_path / "zulip.crt"), "common_name": name,
            "subject_alt_names": [f"DNS:{name}"]}


def test_made_once_then_left_alone(run_module, tmp_path):
    first = run_module(zulip_self_signed, args(tmp_path))
    assert first["changed"] and first["reason"] == "missing"
    assert oct(os.stat(tmp_path / "zulip.key").st_mode & 0o777) == "0o600"
    assert oct(os.stat(tmp_path / "zulip.crt").st_mode & 0o777) == "0o644"
    cert = (tmp_path / "zulip.crt").read_bytes()
    second = run_module(zulip_self_signed, args(tmp_path))
    assert not second["changed"] and (tmp_path / "zulip.crt").read_bytes() == cert


def test_a_new_name_makes_a_new_certificate_with_the_same_key(run_module, tmp_path):
    run_module(zulip_self_signed, args(tmp_path))
    key = (tmp_path / "zulip.key").read_bytes()
    result = run_module(zulip_self_signed, args(tmp_path, "chat.example.com"))
    assert result["changed_files"] == [str(tmp_path / "zulip.crt")] and result["reason"] == "another subject"
    assert (tmp_path / "zulip.key").read_bytes() == key


def test_check_mode_changes_nothing(run_module, tmp_path):
    result = run_module(zulip_self_signed, args(tmp_path), check_mode=True)
    assert result["changed"] and not os.listdir(tmp_path)
