from __future__ import annotations

import hashlib
import json
import os

import pytest

from ansible.module_utils import _internal as module_internal
from ansible.module_utils.common import warnings as module_warnings
from ansible_collections.zulip.server.plugins.modules import zulip_rendered_files


@pytest.fixture
def paths(tmp_path):
    """Two rendered files and where the manifest and the copies go."""
    conf = tmp_path / "etc" / "zulip" / "zulip.conf"
    settings = tmp_path / "etc" / "zulip" / "settings.py"
    conf.parent.mkdir(parents=True)
    conf.write_text("[machine]\ndeploy_type = production\n")
    settings.write_text("EXTERNAL_HOST = 'zulip.example.org'\n")
    return {
        "conf": str(conf),
        "settings": str(settings),
        "manifest": str(tmp_path / "var" / "lib" / "zulip-server" / "rendered.json"),
        "backups": str(tmp_path / "hand-edited"),
    }


@pytest.fixture
def run(run_module, paths, monkeypatch):
    # Once other tests loaded controller code, warnings would go to the display
    # instead of the module's result: run as on a managed host.
    monkeypatch.setattr(module_internal, "is_controller", False)

    def _run(state, **args):
        args = dict({"state": state, "manifest": paths["manifest"]}, **args)
        module_warnings._global_warnings.clear()  # in-process runs share them
        result = run_module(zulip_rendered_files, args, check_mode=args.pop("check_mode", False))
        # ansible-core 2.19 returns each warning as a summary with its message inside.
        result["warnings"] = [w["event"]["msg"] if isinstance(w, dict) else w for w in result.get("warnings", [])]
        return result

    return _run


def record_both(run, paths):
    result = run("recorded", paths=[paths["conf"], paths["settings"]])
    assert result["_rc"] == 0 and result["changed"], result
    return result


def test_record_writes_the_sha256_of_each_file(run, paths):
    result = record_both(run, paths)
    expected = hashlib.sha256(open(paths["settings"], "rb").read()).hexdigest()
    assert result["recorded"][paths["settings"]] == expected
    with open(paths["manifest"]) as f:
        assert json.load(f)["files"][paths["settings"]] == {"sha256": expected}
    assert oct(os.stat(paths["manifest"]).st_mode & 0o777) == "0o644"


def test_record_again_unchanged(run, paths):
    record_both(run, paths)
    assert not run("recorded", paths=[paths["conf"], paths["settings"]])["changed"]
    assert not run("recorded", paths=[paths["conf"]], check_mode=True)["changed"]


def test_record_keeps_other_roles_entries_and_drops_removed_files(run, paths):
    record_both(run, paths)
    os.unlink(paths["conf"])
    result = run("recorded", paths=[paths["conf"]])
    assert result["changed"] and list(result["recorded"]) == [paths["settings"]]


def test_record_in_check_mode_writes_nothing(run, paths):
    result = run("recorded", paths=[paths["conf"]], check_mode=True)
    assert result["changed"] and not os.path.exists(paths["manifest"])


def test_record_needs_paths(run):
    result = run("recorded")
    assert result["_rc"] != 0 and "paths" in result["msg"]


def test_no_manifest_nothing_is_edited(run, paths):
    result = run("checked", backup=True, backup_dir=paths["backups"])
    assert result["_rc"] == 0 and result["edited"] == [] and not result["changed"]
    assert result["warnings"] == []


def test_unedited_files_are_not_reported(run, paths):
    record_both(run, paths)
    result = run("checked", backup=True, backup_dir=paths["backups"])
    assert result["edited"] == [] and not result["changed"] and not os.path.exists(paths["backups"])


def edit(path):
    with open(path, "a") as f:
        f.write("EMAIL_HOST = 'smtp.example.org'  # by hand\n")


def test_hand_edit_is_reported_and_copied_aside(run, paths):
    record_both(run, paths)
    edit(paths["settings"])
    result = run("checked", backup=True, backup_dir=paths["backups"], note="This run rewrites it.")
    assert result["changed"] and result["edited"] == [paths["settings"]]
    copy = result["backups"][paths["settings"]]
    assert copy.startswith(paths["backups"] + "/") and copy.endswith(paths["settings"])
    assert "by hand" in open(copy).read()
    assert oct(os.stat(paths["backups"]).st_mode & 0o777) == "0o700"
    (warning,) = result["warnings"]
    assert paths["settings"] in warning and "edited by hand" in warning and copy in warning
    assert warning.endswith("This run rewrites it.")


def test_check_mode_reports_but_copies_nothing(run, paths):
    record_both(run, paths)
    edit(paths["conf"])
    result = run("checked", backup=True, backup_dir=paths["backups"], check_mode=True)
    assert result["edited"] == [paths["conf"]] and paths["conf"] in result["warnings"][0]
    assert "would be kept in" in result["warnings"][0]
    assert not os.path.exists(paths["backups"])


def test_without_backup_only_warns(run, paths):
    record_both(run, paths)
    edit(paths["conf"])
    result = run("checked", backup_dir=paths["backups"], note="upgrade.yml leaves it as it is.")
    assert not result["changed"] and result["edited"] == [paths["conf"]] and "backups" not in result
    assert "kept" not in result["warnings"][0] and "upgrade.yml leaves it" in result["warnings"][0]
    assert not os.path.exists(paths["backups"])


def test_check_limited_to_paths(run, paths):
    record_both(run, paths)
    edit(paths["conf"])
    edit(paths["settings"])
    assert run("checked", paths=[paths["settings"]])["edited"] == [paths["settings"]]


def test_removed_or_unrecorded_files_are_not_reported(run, paths, tmp_path):
    record_both(run, paths)
    os.unlink(paths["conf"])
    other = tmp_path / "other.conf"
    other.write_text("not ours\n")
    assert run("checked", paths=[paths["conf"], str(other)])["edited"] == []


def test_relative_paths_are_refused(run):
    result = run("recorded", paths=["etc/zulip/zulip.conf"])
    assert result["_rc"] != 0 and "absolute" in result["msg"]
