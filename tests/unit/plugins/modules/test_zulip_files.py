from __future__ import annotations

import grp
import json
import os
import pwd

import pytest

from ansible.module_utils import _internal as module_internal
from ansible.module_utils.common import warnings as module_warnings
from ansible_collections.zulip.server.plugins.modules import zulip_files

# The test's own user and group: files owned by them can be written unprivileged.
ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


@pytest.fixture
def paths(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    return {
        "a": str(etc / "a.conf"),
        "b": str(etc / "b.conf"),
        "manifest": str(tmp_path / "var" / "rendered.json"),
        "backups": str(tmp_path / "hand-edited"),
    }


@pytest.fixture
def run(run_module, paths, monkeypatch):
    monkeypatch.setattr(module_internal, "is_controller", False)

    def _run(files=(), absent=(), check_mode=False, diff=False, **args):
        args = dict({"manifest": paths["manifest"], "backup_dir": paths["backups"],
                     "files": [dict({"owner": ME, "group": MY_GROUP}, **f) for f in files],
                     "absent": list(absent)}, **args)
        module_warnings._global_warnings.clear()
        result = run_module(zulip_files, args, check_mode=check_mode, diff=diff)
        result["warnings"] = [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]
        return result

    return _run


def two(paths, a="a = 1\n", b="b = 2\n", **attrs):
    return [dict({"path": paths["a"], "content": a}, **attrs), dict({"path": paths["b"], "content": b}, **attrs)]


def recorded(paths):
    with open(paths["manifest"]) as f:
        return json.load(f)["files"]


def test_writes_every_file_with_its_mode_and_records_it(run, paths):
    result = run(two(paths, mode="0640"))
    assert result["_rc"] == 0 and result["changed"], result
    assert result["changed_files"] == sorted([paths["a"], paths["b"]])
    assert open(paths["a"]).read() == "a = 1\n"
    assert oct(os.stat(paths["b"]).st_mode & 0o7777) == "0o640"
    assert set(recorded(paths)) == {paths["a"], paths["b"]}


def test_second_run_changes_nothing(run, paths):
    run(two(paths))
    before = os.stat(paths["a"])
    result = run(two(paths))
    assert not result["changed"] and result["changed_files"] == []
    assert os.stat(paths["a"]).st_ino == before.st_ino, "an unchanged file is not rewritten"


def test_only_the_changed_file_is_rewritten(run, paths):
    run(two(paths))
    inode = os.stat(paths["b"]).st_ino
    result = run(two(paths, a="a = 3\n"), diff=True)
    assert result["changed_files"] == [paths["a"]]
    assert os.stat(paths["b"]).st_ino == inode
    (d,) = result["diff"]
    assert d["before"] == "a = 1\n" and d["after"] == "a = 3\n" and d["after_header"] == paths["a"]


def test_mode_drift_is_fixed_without_rewriting(run, paths):
    run(two(paths))
    os.chmod(paths["a"], 0o666)
    inode = os.stat(paths["a"]).st_ino
    result = run(two(paths))
    assert result["changed"] and result["changed_files"] == [paths["a"]]
    assert oct(os.stat(paths["a"]).st_mode & 0o7777) == "0o644" and os.stat(paths["a"]).st_ino == inode


def test_hand_edit_is_copied_aside_before_it_is_rewritten(run, paths):
    run(two(paths))
    with open(paths["a"], "a") as f:
        f.write("# by hand\n")
    result = run(two(paths), note="Use the variables.")
    assert result["edited"] == [paths["a"]]
    copy = result["backups"][paths["a"]]
    assert open(copy).read() == "a = 1\n# by hand\n" and open(paths["a"]).read() == "a = 1\n"
    (warning,) = result["warnings"]
    assert "edited by hand" in warning and copy in warning and warning.endswith("Use the variables.")


def test_a_file_never_recorded_is_rewritten_without_warning(run, paths):
    with open(paths["a"], "w") as f:
        f.write("from elsewhere\n")
    result = run(two(paths))
    assert result["edited"] == [] and result["warnings"] == [] and not os.path.exists(paths["backups"])


def test_check_mode_reports_and_writes_nothing(run, paths):
    run(two(paths))
    with open(paths["a"], "a") as f:
        f.write("# by hand\n")
    manifest = open(paths["manifest"]).read()
    result = run(two(paths, b="b = 9\n"), absent=[], check_mode=True, diff=True)
    assert result["changed"] and result["changed_files"] == sorted([paths["a"], paths["b"]])
    assert "would be kept" in result["warnings"][0] and not os.path.exists(paths["backups"])
    assert open(paths["b"]).read() == "b = 2\n" and open(paths["manifest"]).read() == manifest
    assert {d["after_header"] for d in result["diff"]} == {paths["a"], paths["b"]}


def test_check_mode_tolerates_a_missing_directory_and_user(run, paths, tmp_path):
    new = str(tmp_path / "not-yet" / "c.conf")
    result = run([{"path": new, "content": "c\n", "owner": "no-such-user-zf"}], check_mode=True)
    assert result["_rc"] == 0 and result["changed_files"] == [new]


def test_unknown_user_is_refused(run, paths):
    result = run([{"path": paths["a"], "content": "a\n", "owner": "no-such-user-zf"}])
    assert result["_rc"] != 0 and "no-such-user-zf" in result["msg"] and not os.path.exists(paths["a"])


def test_absent_removes_keeping_a_hand_edit_and_drops_the_record(run, paths):
    run(two(paths))
    with open(paths["b"], "a") as f:
        f.write("# by hand\n")
    result = run(two(paths)[:1], absent=[paths["b"]])
    assert result["changed_files"] == [paths["b"]] and not os.path.exists(paths["b"])
    assert "# by hand" in open(result["backups"][paths["b"]]).read()
    assert list(recorded(paths)) == [paths["a"]]
    assert not run(two(paths)[:1], absent=[paths["b"]])["changed"]


def test_unrecorded_files_are_not_recorded_or_copied_is_recorded_or_copied(run, paths):
    run(two(paths), record=False)
    with open(paths["a"], "a") as f:
        f.write("# by hand\n")
    result = run(two(paths), record=False)
    assert result.get("changed_files") == [paths["a"]] and result["edited"] == [], result
    assert not os.path.exists(paths["manifest"]) and not os.path.exists(paths["backups"])


@pytest.mark.parametrize("bad, message", [
    ({"files": [{"path": "etc/a", "content": ""}]}, "absolute"),
    ({"absent": ["/x", "/x"]}, "twice"),
    ({"files": [{"path": "/tmp/zf-a", "content": "", "mode": "rw-"}]}, "octal"),
])
def test_bad_arguments_are_refused(run, bad, message):
    result = run(**bad)
    assert result["_rc"] != 0 and message in result["msg"]


def test_directories_are_created_before_the_files_in_them(run, paths, tmp_path):
    top = str(tmp_path / "srv" / "zulip")
    result = run([{"path": top + "/x.conf", "content": "x\n"}],
                 directories=[{"path": top, "owner": ME, "group": MY_GROUP, "mode": "0750"}])
    assert result["_rc"] == 0 and result["changed_files"] == [top, top + "/x.conf"], result
    assert oct(os.stat(top).st_mode & 0o7777) == "0o750"
    os.chmod(top, 0o755)
    again = run([{"path": top + "/x.conf", "content": "x\n"}],
                directories=[{"path": top, "owner": ME, "group": MY_GROUP, "mode": "0750"}])
    assert again["changed_files"] == [top] and oct(os.stat(top).st_mode & 0o7777) == "0o750"
    assert not run(directories=[{"path": top, "owner": ME, "group": MY_GROUP, "mode": "0750"}])["changed"]


def test_a_file_where_a_directory_belongs_is_refused(run, paths):
    with open(paths["a"], "w") as f:
        f.write("")
    result = run(directories=[{"path": paths["a"], "owner": ME, "group": MY_GROUP}])
    assert result["_rc"] != 0 and "not a directory" in result["msg"]


def test_links_are_made_repointed_and_previewed(run, paths, tmp_path):
    link = str(tmp_path / "etc" / "enabled")
    preview = run(links=[{"path": link, "src": paths["a"]}], check_mode=True, diff=True)
    assert preview["changed_files"] == [link] and not os.path.lexists(link)
    assert preview["diff"][0]["after"] == f"-> {paths['a']}\n"
    assert run(links=[{"path": link, "src": paths["a"]}])["changed_files"] == [link]
    assert os.readlink(link) == paths["a"]  # a target that does not exist yet is fine
    assert not run(links=[{"path": link, "src": paths["a"]}])["changed"]
    assert run(links=[{"path": link, "src": paths["b"]}])["changed_files"] == [link]
    assert os.readlink(link) == paths["b"] and link not in recorded(paths)  # no content to record


def test_a_file_where_a_link_belongs_is_refused_and_kept(run, paths):
    with open(paths["a"], "w") as f:
        f.write("mine\n")
    result = run(links=[{"path": paths["a"], "src": paths["b"]}])
    assert result["_rc"] != 0 and "not a symbolic link" in result["msg"]
    assert open(paths["a"]).read() == "mine\n"


def test_absent_removes_a_link_even_a_dangling_one(run, paths, tmp_path):
    link = str(tmp_path / "etc" / "default")
    os.symlink(str(tmp_path / "nowhere"), link)
    result = run(absent=[link])
    assert result["changed_files"] == [link] and not os.path.lexists(link)
    assert not run(absent=[link])["changed"]


def test_recording_a_file_that_holds_its_content_is_not_a_change(run, paths):
    run(two(paths), record=False)
    result = run(two(paths))
    assert result["_rc"] == 0 and not result["changed"], result
    assert set(recorded(paths)) == {paths["a"], paths["b"]}


def test_tags_name_what_changed_each_once(run, paths, tmp_path):
    files = [dict(f, tag=tag) for f, tag in zip(two(paths), ["restart", "reload"])]
    first = run(files, directories=[{"path": str(tmp_path / "d"), "owner": ME, "group": MY_GROUP, "tag": "restart"}])
    assert first["changed_tags"] == ["reload", "restart"]
    files[1]["content"] = "b = 3\n"
    assert run(files)["changed_tags"] == ["reload"]
    assert run(files)["changed_tags"] == []


def test_a_secret_file_in_a_recorded_call_is_neither_recorded_nor_copied(run, paths):
    files = two(paths)
    files[1]["record"] = False
    run(files)
    assert list(recorded(paths)) == [paths["a"]]
    with open(paths["b"], "a") as f:
        f.write("# by hand\n")
    result = run(files)
    assert result["changed_files"] == [paths["b"]] and result["edited"] == [] and not os.path.exists(paths["backups"])


def test_one_file_may_record_in_an_unrecorded_call_and_say_its_own_note(run, paths):
    files = two(paths)
    files[0].update(record=True, note="Its own note.")
    run(files, record=False, note="The call's note.")
    assert list(recorded(paths)) == [paths["a"]]
    with open(paths["a"], "a") as f:
        f.write("# by hand\n")
    (warning,) = run(files, record=False, note="The call's note.")["warnings"]
    assert warning.endswith("Its own note.")
