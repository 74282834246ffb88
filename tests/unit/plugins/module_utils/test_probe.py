from __future__ import annotations

import os
import pwd

import pytest

from ansible_collections.zulip.server.plugins.module_utils import probe

SHOW = """Id=postgresql.service
LoadState=loaded
ActiveState=active
UnitFileState=enabled

Id=memcached.service
LoadState=loaded
ActiveState=inactive
UnitFileState=disabled

Id=nothere.service
LoadState=not-found
ActiveState=inactive
UnitFileState=
"""


def fake_runner(answers):
    calls = []

    def runner(argv, chdir=None, user=None):
        calls.append((tuple(argv), chdir, user))
        for prefix, answer in answers.items():
            if tuple(argv[:len(prefix)]) == prefix:
                return answer
        return 127, "", "not found"
    runner.calls = calls
    return runner


def test_paths_report_type_mode_owner_and_link_target(tmp_path):
    (tmp_path / "file").write_text("x")
    os.chmod(tmp_path / "file", 0o640)
    (tmp_path / "dir").mkdir()
    os.symlink("file", tmp_path / "link")
    answers = probe.probe({"paths": [str(tmp_path / n) for n in ("file", "dir", "link", "missing")]})["paths"]
    me = pwd.getpwuid(os.getuid()).pw_name
    assert answers[str(tmp_path / "file")] | {"mtime": 0} == {
        "exists": True, "type": "file", "mode": "0640", "owner": me, "group": answers[str(tmp_path / "file")]["group"],
        "size": 1, "mtime": 0, "target": None, "writable": True}
    assert answers[str(tmp_path / "dir")]["type"] == "directory"
    assert answers[str(tmp_path / "link")]["type"] == "link" and answers[str(tmp_path / "link")]["target"] == "file"
    assert answers[str(tmp_path / "missing")]["exists"] is False
    # Below a file there is nothing either (ENOTDIR).
    assert probe.path_state(str(tmp_path / "file" / "below"))["exists"] is False


def test_checksums_of_files_only(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    sums = probe.probe({"checksums": [str(tmp_path / "f"), str(tmp_path)]})["checksums"]
    assert sums[str(tmp_path / "f")] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sums[str(tmp_path)] is None


def test_units_in_the_order_asked():
    runner = fake_runner({("systemctl", "show"): (0, SHOW, "")})
    units = probe.units_state(["postgresql", "memcached", "nothere"], runner)
    assert units["postgresql"] | {} == {"loaded": True, "active": True, "enabled": True, "state": "active",
                                        "file_state": "enabled"}
    assert units["memcached"]["active"] is False and units["memcached"]["enabled"] is False
    assert units["nothere"]["loaded"] is False and units["nothere"]["enabled"] is False
    assert runner.calls[0][0][-3:] == ("postgresql", "memcached", "nothere")


def test_units_unknown_when_systemctl_fails():
    units = probe.units_state(["a"], fake_runner({}))
    assert units["a"] == {"loaded": False, "active": False, "enabled": False, "state": None, "file_state": None}


@pytest.mark.parametrize("file_state", ["static", "generated", "enabled-runtime", "alias", "indirect"])
def test_units_that_start_without_being_enabled_count_as_enabled(file_state):
    show = f"Id=x.service\nLoadState=loaded\nActiveState=active\nUnitFileState={file_state}\n"
    assert probe.units_state(["x"], fake_runner({("systemctl",): (0, show, "")}))["x"]["enabled"]


def test_users_and_groups():
    me = pwd.getpwuid(os.getuid())
    answers = probe.probe({"users": [me.pw_name, "no-such-user-zz"], "groups": ["no-such-group-zz"]})
    assert answers["users"][me.pw_name]["exists"] and answers["users"][me.pw_name]["home"] == me.pw_dir
    assert answers["users"]["no-such-user-zz"] == {"exists": False, "uid": None, "group": None, "groups": [],
                                                   "home": None, "shell": None}
    assert answers["groups"]["no-such-group-zz"]["exists"] is False


def test_diversions_local_and_by_package():
    listing = ("local diversion of /etc/logrotate.d/postgresql-common to /etc/logrotate.d/postgresql-common.disabled\n"
               "diversion of /usr/bin/a to /usr/bin/a.real by pkg\n")
    runner = fake_runner({("dpkg-divert", "--list"): (0, listing, "")})
    answers = probe.diversions_state(["/etc/logrotate.d/postgresql-common", "/usr/bin/a", "/etc/x"], runner)
    assert answers == {"/etc/logrotate.d/postgresql-common": "/etc/logrotate.d/postgresql-common.disabled",
                       "/usr/bin/a": "/usr/bin/a.real", "/etc/x": None}


def test_commands_run_as_argv_with_their_directory_and_user():
    runner = fake_runner({("locale",): (0, "C\nC.utf8\n", ""), ("./manage.py",): (3, "", "no realm")})
    answers = probe.probe({"commands": {
        "locales": ["locale", "-a"],
        "realm": {"argv": ["./manage.py", "shell"], "chdir": "/srv/d", "user": "zulip"}}}, runner)["commands"]
    assert answers["locales"] == {"rc": 0, "stdout": "C\nC.utf8\n", "stderr": ""}
    assert answers["realm"]["rc"] == 3
    assert (("./manage.py", "shell"), "/srv/d", "zulip") in runner.calls


@pytest.mark.parametrize("bad", ["locale -a", [], {"chdir": "/"}])
def test_a_command_must_be_an_argv_list(bad):
    with pytest.raises(ValueError, match="commands.x"):
        probe.probe({"commands": {"x": bad}}, fake_runner({}))


def test_real_commands_report_their_exit_code_and_a_missing_program(tmp_path):
    assert probe.run(["sh", "-c", "pwd; exit 3"], chdir=str(tmp_path)) == (3, f"{tmp_path}\n", "")
    assert probe.run(["/nonexistent/program"])[0] == 127
    assert probe.run(["true"], user="no-such-user-zz")[0] == 127


def test_small_files_are_read_large_ones_and_directories_not(tmp_path):
    (tmp_path / "small").write_text("include /etc/redis/zulip-redis.conf\n")
    (tmp_path / "large").write_bytes(b"x" * (probe.READ_LIMIT + 1))
    contents = probe.probe({"read": [str(tmp_path / n) for n in ("small", "large", "missing")] + [str(tmp_path)]})["contents"]
    assert contents == {str(tmp_path / "small"): "include /etc/redis/zulip-redis.conf\n", str(tmp_path / "large"): None,
                        str(tmp_path / "missing"): None, str(tmp_path): None}

