from __future__ import annotations

import datetime
import grp
import hashlib
import io
import os
import pwd
import re
import tarfile

import pytest

from ansible_collections.zulip.server.plugins.modules import zulip_deployment

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$")


@pytest.fixture
def run(run_module):
    def _run(args, **kwargs):
        args = dict({"owner": USER, "group": GROUP}, **args)
        return run_module(zulip_deployment, args, **kwargs)

    return _run


def make_tarball(path, entries, top="zulip-server-9.9"):
    """entries: list of (name, kind, data) with kind file/dir/symlink/hardlink/fifo."""
    with tarfile.open(path, "w:gz") as tar:
        if top is not None:
            info = tarfile.TarInfo(top)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for name, kind, data in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                payload = data.encode()
                info.size = len(payload)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(payload))
                continue
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = data
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            tar.addfile(info)
    return path


def release(tmp_path, version="9.9", extra=(), name=None):
    top = f"zulip-server-{version}"
    entries = [
        (f"{top}/version.py", "file", f'ZULIP_VERSION = "{version}"\nZULIP_MERGE_BASE = "{version}"\n'),
        (f"{top}/manage.py", "file", "print('hi')\n"),
        (f"{top}/zproject", "dir", None),
        (f"{top}/zproject/settings.py", "file", "X = 1\n"),
        (f"{top}/static", "symlink", "zproject"),
        (f"{top}/manage-copy.py", "hardlink", f"{top}/manage.py"),
    ]
    entries += [(e[0].replace("TOP", top), e[1], e[2]) for e in extra]
    return str(make_tarball(tmp_path / (name or f"{top}.tar.gz"), entries, top=top))


def deployments(tmp_path):
    path = tmp_path / "deployments"
    path.mkdir(exist_ok=True)
    return path


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# state=unpacked


def test_unpack(run, tmp_path):
    ddir = deployments(tmp_path)
    archive = release(tmp_path)
    result = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir),
                  "settings_path": "/etc/zulip/settings.py"})
    assert result["_rc"] == 0, result
    assert result["changed"] is True
    assert result["version"] == "9.9"
    assert result["sha256"] == sha256(archive)
    path = result["path"]
    assert os.path.dirname(path) == str(ddir)
    assert TIMESTAMP_RE.match(os.path.basename(path))
    assert open(os.path.join(path, "manage.py")).read() == "print('hi')\n"
    assert open(os.path.join(path, "manage-copy.py")).read() == "print('hi')\n"
    assert os.readlink(os.path.join(path, "static")) == "zproject"
    assert os.readlink(os.path.join(path, "zproject", "prod_settings.py")) == "/etc/zulip/settings.py"
    assert open(os.path.join(path, ".zulip-release-sha256")).read().strip() == sha256(archive)
    assert os.readlink(ddir / "next") == path
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o755)
    # nothing but the deployment and next
    assert sorted(p.name for p in ddir.iterdir()) == sorted([os.path.basename(path), "next"])


def test_unpack_idempotent_by_hash(run, tmp_path):
    ddir = deployments(tmp_path)
    archive = release(tmp_path)
    first = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir)})
    os.unlink(ddir / "next")
    second = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir)})
    assert second["changed"] is False
    assert second["path"] == first["path"]
    assert second["version"] == "9.9"
    assert second["sha256"] == first["sha256"]
    assert not os.path.lexists(ddir / "next")  # returned unchanged


def test_unpack_creates_zproject_and_replaces_prod_settings(run, tmp_path):
    ddir = deployments(tmp_path)
    top = "zulip-server-1.0"
    archive = str(make_tarball(tmp_path / "r.tar.gz", [(f"{top}/version.py", "file", "ZULIP_VERSION = '1.0'\n")], top=top))
    result = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir), "settings_path": "/x/s.py"})
    assert result["version"] == "1.0"
    assert os.readlink(os.path.join(result["path"], "zproject", "prod_settings.py")) == "/x/s.py"

    top = "zulip-server-2.0"
    archive = str(make_tarball(tmp_path / "r2.tar.gz", [
        (f"{top}/zproject", "dir", None),
        (f"{top}/zproject/prod_settings.py", "file", "SHIPPED = 1\n"),
    ], top=top))
    result = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir), "settings_path": "/x/s.py"})
    assert result["version"] is None
    assert os.readlink(os.path.join(result["path"], "zproject", "prod_settings.py")) == "/x/s.py"


def test_unpack_two_releases_same_second_get_distinct_names(run, tmp_path, monkeypatch):
    fixed = datetime.datetime(2025, 1, 31, 14, 5, 9)

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return fixed

    monkeypatch.setattr(zulip_deployment.datetime, "datetime", FrozenDatetime)
    ddir = deployments(tmp_path)
    first = run({"state": "unpacked", "archive": release(tmp_path, "1.0"), "deployments_dir": str(ddir)})
    second = run({"state": "unpacked", "archive": release(tmp_path, "2.0"), "deployments_dir": str(ddir)})
    assert first["path"] == str(ddir / "2025-01-31-14-05-09")
    assert second["path"] == str(ddir / "2025-01-31-14-05-10")
    assert os.readlink(ddir / "next") == second["path"]


def test_unpack_creates_deployments_dir(run, tmp_path):
    ddir = tmp_path / "new" / "deployments"
    result = run({"state": "unpacked", "archive": release(tmp_path), "deployments_dir": str(ddir)})
    assert result["changed"] is True
    assert os.path.isdir(result["path"])


def test_unpack_check_mode(run, tmp_path):
    ddir = deployments(tmp_path)
    archive = release(tmp_path)
    result = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir)}, check_mode=True)
    assert result["changed"] is True
    assert result["version"] == "9.9"
    assert result["sha256"] == sha256(archive)
    assert os.path.dirname(result["path"]) == str(ddir)
    assert TIMESTAMP_RE.match(os.path.basename(result["path"]))
    assert list(ddir.iterdir()) == []


@pytest.mark.parametrize(
    "entries, top, fragment",
    [
        ([("zulip-server-1/a", "file", "x"), ("other/b", "file", "y")], "zulip-server-1", "exactly one top-level"),
        ([("notzulip/a", "file", "x")], "notzulip", "not named zulip-server-*"),
        ([("zulip-server-1", "file", "x")], None, "is not a directory"),
        ([("zulip-server-1/../evil", "file", "x")], "zulip-server-1", "contains '..'"),
        ([("/zulip-server-1/a", "file", "x")], None, "absolute path"),
        ([("zulip-server-1/l", "symlink", "/etc/passwd")], "zulip-server-1", "points outside"),
        ([("zulip-server-1/d/l", "symlink", "../../x")], "zulip-server-1", "points outside"),
        ([("zulip-server-1/l", "hardlink", "/etc/passwd")], "zulip-server-1", "points outside"),
        ([("zulip-server-1/l", "hardlink", "zulip-server-1/../x")], "zulip-server-1", "points outside"),
        ([("zulip-server-1/p", "fifo", None)], "zulip-server-1", "not a file, directory or link"),
        ([], "zulip-server-1", "is empty"),
        ([], None, "found nothing"),
    ],
)
def test_unpack_rejects_bad_tarballs(run, tmp_path, entries, top, fragment):
    ddir = deployments(tmp_path)
    archive = str(make_tarball(tmp_path / "bad.tar.gz", entries, top=top))
    for check_mode in (True, False):
        result = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir)}, check_mode=check_mode)
        assert result["failed"] is True
        assert fragment in result["msg"]
    assert list(ddir.iterdir()) == []


def test_unpack_relative_symlink_inside_is_fine(run, tmp_path):
    ddir = deployments(tmp_path)
    archive = release(tmp_path, extra=[("TOP/a", "dir", None), ("TOP/a/up", "symlink", "../manage.py")])
    result = run({"state": "unpacked", "archive": archive, "deployments_dir": str(ddir)})
    assert result["changed"] is True
    assert open(os.path.join(result["path"], "a", "up")).read() == "print('hi')\n"


def test_unpack_not_a_tarball(run, tmp_path):
    ddir = deployments(tmp_path)
    archive = tmp_path / "zulip-server-1.tar.gz"
    archive.write_bytes(b"not a tarball")
    result = run({"state": "unpacked", "archive": str(archive), "deployments_dir": str(ddir)})
    assert result["failed"] is True
    assert "not a readable tarball" in result["msg"]


def test_unpack_missing_archive_and_unknown_user(run, tmp_path):
    ddir = deployments(tmp_path)
    result = run({"state": "unpacked", "archive": str(tmp_path / "nope.tar.gz"), "deployments_dir": str(ddir)})
    assert "does not exist" in result["msg"]
    result = run({"state": "unpacked", "archive": release(tmp_path), "deployments_dir": str(ddir),
                  "owner": "no-such-user-zulip-test"})
    assert "user 'no-such-user-zulip-test' does not exist" in result["msg"]


def test_unpack_requires_archive(run, tmp_path):
    result = run({"state": "unpacked", "deployments_dir": str(tmp_path)})
    assert result["failed"] is True
    assert "archive" in result["msg"]


# state=current


def make_deploys(ddir, *names):
    paths = []
    for name in names:
        path = ddir / name
        path.mkdir()
        paths.append(str(path))
    return paths


def test_current_first_time(run, tmp_path):
    ddir = deployments(tmp_path)
    (one,) = make_deploys(ddir, "2025-01-01-00-00-00")
    os.symlink(one, ddir / "next")
    result = run({"state": "current", "path": one, "deployments_dir": str(ddir)})
    assert result["changed"] is True
    assert result["previous"] is None
    assert os.readlink(ddir / "current") == one
    assert not os.path.lexists(ddir / "last")
    assert not os.path.lexists(ddir / "next")


def test_current_switch_sets_last(run, tmp_path):
    ddir = deployments(tmp_path)
    old, new = make_deploys(ddir, "2025-01-01-00-00-00", "2025-02-01-00-00-00")
    os.symlink(old, ddir / "current")
    os.symlink(new, ddir / "next")
    result = run({"state": "current", "path": str(ddir / "next"), "deployments_dir": str(ddir)})
    assert result["changed"] is True
    assert result["previous"] == old
    assert result["path"] == new
    assert os.readlink(ddir / "current") == new
    assert os.readlink(ddir / "last") == old
    assert not os.path.lexists(ddir / "next")
    # idempotent
    again = run({"state": "current", "path": new, "deployments_dir": str(ddir)})
    assert again["changed"] is False
    assert again["previous"] == new
    assert os.readlink(ddir / "last") == old
    assert not any(p.name.startswith(".") for p in ddir.iterdir())


def test_current_relative_old_link(run, tmp_path):
    ddir = deployments(tmp_path)
    old, new = make_deploys(ddir, "2025-01-01-00-00-00", "2025-02-01-00-00-00")
    os.symlink("2025-01-01-00-00-00", ddir / "current")
    result = run({"state": "current", "path": new, "deployments_dir": str(ddir)})
    assert result["previous"] == old
    assert os.path.realpath(ddir / "last") == old


def test_current_keeps_unrelated_next(run, tmp_path):
    ddir = deployments(tmp_path)
    one, two = make_deploys(ddir, "2025-01-01-00-00-00", "2025-02-01-00-00-00")
    os.symlink(two, ddir / "next")
    run({"state": "current", "path": one, "deployments_dir": str(ddir)})
    assert os.readlink(ddir / "next") == two


def test_current_check_mode(run, tmp_path):
    ddir = deployments(tmp_path)
    old, new = make_deploys(ddir, "2025-01-01-00-00-00", "2025-02-01-00-00-00")
    os.symlink(old, ddir / "current")
    os.symlink(new, ddir / "next")
    result = run({"state": "current", "path": new, "deployments_dir": str(ddir)}, check_mode=True)
    assert result["changed"] is True
    assert result["previous"] == old
    assert os.readlink(ddir / "current") == old
    assert os.readlink(ddir / "next") == new
    assert not os.path.lexists(ddir / "last")


@pytest.mark.parametrize("where", ["outside", "nested", "missing", "file", "itself", "hidden"])
def test_current_refuses_non_deployments(run, tmp_path, where):
    ddir = deployments(tmp_path)
    make_deploys(ddir, "2025-01-01-00-00-00")
    target = {
        "outside": tmp_path,
        "nested": ddir / "2025-01-01-00-00-00" / "sub",
        "missing": ddir / "2030-01-01-00-00-00",
        "file": ddir / "afile",
        "itself": ddir,
        "hidden": ddir / ".unpack-x",
    }[where]
    if where == "nested":
        target.mkdir()
    if where == "file":
        target.write_text("x")
    if where == "hidden":
        target.mkdir()
    result = run({"state": "current", "path": str(target), "deployments_dir": str(ddir)})
    assert result["failed"] is True
    assert not os.path.lexists(ddir / "current")


def test_current_refuses_real_directory_as_current(run, tmp_path):
    ddir = deployments(tmp_path)
    (one,) = make_deploys(ddir, "2025-01-01-00-00-00")
    (ddir / "current").mkdir()
    result = run({"state": "current", "path": one, "deployments_dir": str(ddir)})
    assert result["failed"] is True
    assert "not a symlink" in result["msg"]


# state=purged


def test_purge_keeps_newest_and_link_targets(run, tmp_path):
    ddir = deployments(tmp_path)
    names = [f"2025-01-{day:02d}-00-00-00" for day in range(1, 9)]
    paths = make_deploys(ddir, *names)
    os.symlink(paths[0], ddir / "current")  # oldest, but current
    os.symlink(paths[1], ddir / "last")
    os.symlink(paths[2], ddir / "next")
    (ddir / "lock").mkdir()
    (ddir / "not-a-timestamp").mkdir()
    (ddir / "uwsgi-socket").write_text("")
    os.symlink(paths[3], ddir / "2025-12-31-00-00-00")  # timestamp-named symlink: ignored
    result = run({"state": "purged", "keep": 3, "deployments_dir": str(ddir)})
    assert result["changed"] is True
    assert result["removed"] == [paths[4], paths[3]]
    remaining = sorted(p.name for p in ddir.iterdir())
    assert remaining == sorted(names[:3] + names[5:] + [
        "current", "last", "next", "lock", "not-a-timestamp", "uwsgi-socket", "2025-12-31-00-00-00",
    ])
    again = run({"state": "purged", "keep": 3, "deployments_dir": str(ddir)})
    assert again["changed"] is False
    assert again["removed"] == []


def test_purge_check_mode(run, tmp_path):
    ddir = deployments(tmp_path)
    paths = make_deploys(ddir, "2025-01-01-00-00-00", "2025-01-02-00-00-00")
    (ddir / "2025-01-01-00-00-00" / "file").write_text("x")
    result = run({"state": "purged", "keep": 1, "deployments_dir": str(ddir)}, check_mode=True)
    assert result["changed"] is True
    assert result["removed"] == [paths[0]]
    assert os.path.isdir(paths[0])


def test_purge_keep_zero_and_default(run, tmp_path):
    ddir = deployments(tmp_path)
    paths = make_deploys(ddir, *[f"2025-01-0{day}-00-00-00" for day in range(1, 6)])
    result = run({"state": "purged", "deployments_dir": str(ddir)})
    assert result["removed"] == [paths[1], paths[0]]
    os.symlink(paths[4], ddir / "current")
    result = run({"state": "purged", "keep": 0, "deployments_dir": str(ddir)})
    assert result["removed"] == [paths[3], paths[2]]
    assert sorted(p.name for p in ddir.iterdir()) == ["2025-01-05-00-00-00", "current"]


def test_purge_missing_dir_and_negative_keep(run, tmp_path):
    result = run({"state": "purged", "deployments_dir": str(tmp_path / "nope")})
    assert result["changed"] is False
    assert result["removed"] == []
    result = run({"state": "purged", "keep": -1, "deployments_dir": str(tmp_path)})
    assert result["failed"] is True


def test_full_cycle(run, tmp_path, monkeypatch):
    moments = iter(datetime.datetime(2025, 1, day, 12, 0, 0) for day in range(1, 10))

    class SteppingDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return next(moments)

    monkeypatch.setattr(zulip_deployment.datetime, "datetime", SteppingDatetime)
    ddir = deployments(tmp_path)
    paths = []
    for version in ("1.0", "2.0", "3.0", "4.0", "5.0"):
        unpacked = run({"state": "unpacked", "archive": release(tmp_path, version), "deployments_dir": str(ddir)})
        assert unpacked["version"] == version
        current = run({"state": "current", "path": unpacked["path"], "deployments_dir": str(ddir)})
        assert current["previous"] == (paths[-1] if paths else None)
        paths.append(unpacked["path"])
    purged = run({"state": "purged", "keep": 2, "deployments_dir": str(ddir)})
    assert purged["removed"] == [paths[2], paths[1], paths[0]]
    assert os.readlink(ddir / "current") == paths[4]
    assert os.readlink(ddir / "last") == paths[3]


# state=static


def make_static_deploy(ddir, name, files, links=()):
    """A deployment directory with prod-static/serve holding files {relative: text} and links {relative: target}."""
    path = ddir / name
    serve = path / "prod-static" / "serve"
    serve.mkdir(parents=True)
    for relative, text in files.items():
        target = serve / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(0o755 if relative.endswith(".sh") else 0o644)
    for relative, link in dict(links).items():
        (serve / relative).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link, serve / relative)
    return str(path)


def tree(root):
    """{relative path: file text or '-> target'} of everything under root."""
    found = {}
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(directory, name)
            relative = os.path.relpath(full, root)
            if os.path.islink(full):
                found[relative] = "-> " + os.readlink(full)
            elif os.path.isfile(full):
                found[relative] = open(full).read()
    return found


ASSETS_1 = {
    "webpack/app.1111.js": "app 1",
    "webpack/app.1111.css": "css 1",
    "images/logo.svg": "<svg/>",
    "tools/run.sh": "#!/bin/sh\n",
}


def test_static_first_copy_then_idempotent(run, tmp_path):
    ddir = deployments(tmp_path)
    deploy = make_static_deploy(ddir, "2025-01-01-00-00-00", ASSETS_1, {"images/logo-link.svg": "logo.svg"})
    os.symlink(deploy, ddir / "current")
    static_dir = tmp_path / "prod-static"
    args = {"state": "static", "path": str(ddir / "current"), "deployments_dir": str(ddir),
            "static_dir": str(static_dir)}
    result = run(args)
    assert result["_rc"] == 0, result
    assert result["changed"] is True
    assert result["files"] == 5
    assert result["copied"] == 5
    assert result["path"] == deploy
    assert result["static_dir"] == str(static_dir)
    assert tree(static_dir) == dict(ASSETS_1, **{"images/logo-link.svg": "-> logo.svg"})
    assert oct(os.stat(static_dir).st_mode & 0o777) == oct(0o755)
    assert oct(os.stat(static_dir / "webpack").st_mode & 0o777) == oct(0o755)
    assert oct(os.stat(static_dir / "webpack/app.1111.js").st_mode & 0o777) == oct(0o644)
    assert oct(os.stat(static_dir / "tools/run.sh").st_mode & 0o777) == oct(0o755)
    assert not [name for name in os.listdir(static_dir / "webpack") if name.startswith(".")]  # no temp files left

    again = run(args)
    assert again["changed"] is False
    assert again["copied"] == 0
    assert again["files"] == 5


def test_static_copies_changed_file(run, tmp_path):
    ddir = deployments(tmp_path)
    deploy = make_static_deploy(ddir, "2025-01-01-00-00-00", ASSETS_1)
    static_dir = tmp_path / "prod-static"
    args = {"state": "static", "path": deploy, "deployments_dir": str(ddir), "static_dir": str(static_dir)}
    run(args)
    serve = os.path.join(deploy, "prod-static", "serve")
    with open(os.path.join(serve, "images/logo.svg"), "w") as handle:
        handle.write("<SVG/>")  # same size, other content
    with open(os.path.join(serve, "webpack/app.1111.css"), "w") as handle:
        handle.write("a longer css 1")  # other size
    os.chmod(static_dir / "tools/run.sh", 0o600)  # same content, other mode
    result = run(args)
    assert result["changed"] is True
    assert result["copied"] == 3
    assert (static_dir / "images/logo.svg").read_text() == "<SVG/>"
    assert (static_dir / "webpack/app.1111.css").read_text() == "a longer css 1"
    assert oct(os.stat(static_dir / "tools/run.sh").st_mode & 0o777) == oct(0o755)


def test_static_upgrade_keeps_old_assets(run, tmp_path):
    ddir = deployments(tmp_path)
    old = make_static_deploy(ddir, "2025-01-01-00-00-00", ASSETS_1)
    new = make_static_deploy(ddir, "2025-02-01-00-00-00", {
        "webpack/app.2222.js": "app 2",
        "webpack/app.2222.css": "css 2",
        "images/logo.svg": "<svg version='2'/>",
    })
    static_dir = tmp_path / "prod-static"
    (static_dir / "unrelated").mkdir(parents=True)
    (static_dir / "unrelated" / "keep.txt").write_text("mine")
    run({"state": "static", "path": old, "deployments_dir": str(ddir), "static_dir": str(static_dir)})
    result = run({"state": "static", "path": new, "deployments_dir": str(ddir), "static_dir": str(static_dir)})
    assert result["changed"] is True
    assert result["files"] == 3
    assert result["copied"] == 3
    assert tree(static_dir) == {
        "webpack/app.1111.js": "app 1",
        "webpack/app.1111.css": "css 1",
        "webpack/app.2222.js": "app 2",
        "webpack/app.2222.css": "css 2",
        "images/logo.svg": "<svg version='2'/>",
        "tools/run.sh": "#!/bin/sh\n",
        "unrelated/keep.txt": "mine",
    }


def test_static_check_mode_writes_nothing(run, tmp_path):
    ddir = deployments(tmp_path)
    deploy = make_static_deploy(ddir, "2025-01-01-00-00-00", ASSETS_1, {"l": "images"})
    static_dir = tmp_path / "prod-static"
    args = {"state": "static", "path": deploy, "deployments_dir": str(ddir), "static_dir": str(static_dir)}
    result = run(args, check_mode=True)
    assert result["changed"] is True
    assert result["files"] == 5
    assert result["copied"] == 5
    assert not os.path.lexists(static_dir)

    run(args)
    serve = os.path.join(deploy, "prod-static", "serve")
    with open(os.path.join(serve, "webpack/app.1111.js"), "w") as handle:
        handle.write("app 1 fixed")
    os.mkdir(os.path.join(serve, "fonts"))
    before = tree(static_dir)
    result = run(args, check_mode=True)
    assert result["changed"] is True
    assert result["copied"] == 1
    assert tree(static_dir) == before
    assert not os.path.lexists(static_dir / "fonts")


def test_static_without_prod_static_fails(run, tmp_path):
    ddir = deployments(tmp_path)
    (deploy,) = make_deploys(ddir, "2025-01-01-00-00-00")
    static_dir = tmp_path / "prod-static"
    for check_mode in (True, False):
        result = run({"state": "static", "path": deploy, "deployments_dir": str(ddir), "static_dir": str(static_dir)},
                     check_mode=check_mode)
        assert result["failed"] is True
        assert os.path.join(deploy, "prod-static", "serve") in result["msg"]
        assert "tools/update-prod-static" in result["msg"]
    assert not os.path.lexists(static_dir)


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../../etc", "../../outside", "../a/b/l/../.."])
def test_static_refuses_escaping_symlink(run, tmp_path, target):
    ddir = deployments(tmp_path)
    # a/b/l -> c is inside; z/evil -> ../a/b/l/../.. looks like a/ but climbs from c/ out of the tree
    links = {"a/b/l": "../../c", "z/evil": target}
    deploy = make_static_deploy(ddir, "2025-01-01-00-00-00", {"a/b/x.js": "x", "c/y.js": "y"}, links)
    static_dir = tmp_path / "prod-static"
    result = run({"state": "static", "path": deploy, "deployments_dir": str(ddir), "static_dir": str(static_dir)})
    assert result["failed"] is True, result
    assert "points outside" in result["msg"]
    assert "z/evil" in result["msg"]
    assert not os.path.lexists(static_dir / "z" / "evil")


def test_static_refuses_non_deployment_and_obstacles(run, tmp_path):
    ddir = deployments(tmp_path)
    deploy = make_static_deploy(ddir, "2025-01-01-00-00-00", {"webpack/a.js": "a"})
    static_dir = tmp_path / "prod-static"
    elsewhere = make_static_deploy(tmp_path, "elsewhere", {"a.js": "a"})
    result = run({"state": "static", "path": elsewhere, "deployments_dir": str(ddir), "static_dir": str(static_dir)})
    assert "not a deployment directory directly under" in result["msg"]
    result = run({"state": "static", "deployments_dir": str(ddir)})
    assert result["failed"] is True
    assert "path" in result["msg"]
    # a symlink in static_dir where the release has a directory is not written through
    static_dir.mkdir()
    os.symlink(str(tmp_path), static_dir / "webpack")
    result = run({"state": "static", "path": deploy, "deployments_dir": str(ddir), "static_dir": str(static_dir)})
    assert result["failed"] is True
    assert "is not a directory" in result["msg"]
    assert not os.path.lexists(tmp_path / "a.js")


def test_static_sets_owner_and_group(run, tmp_path, monkeypatch):
    ddir = deployments(tmp_path)
    deploy = make_static_deploy(ddir, "2025-01-01-00-00-00", {"webpack/a.js": "a"}, {"b.js": "webpack/a.js"})
    static_dir = tmp_path / "prod-static"
    args = {"state": "static", "path": deploy, "deployments_dir": str(ddir), "static_dir": str(static_dir)}
    resolved = []
    real_resolve_ids = zulip_deployment.resolve_ids

    def recording_resolve_ids(owner, group):
        resolved.append((owner, group))
        return real_resolve_ids(owner, group)

    monkeypatch.setattr(zulip_deployment, "resolve_ids", recording_resolve_ids)
    run(args)
    assert resolved == [(USER, GROUP)]
    for relative in ("", "webpack", "webpack/a.js", "b.js"):
        info = os.lstat(os.path.join(static_dir, relative))
        assert (info.st_uid, info.st_gid) == (os.getuid(), os.getgid())
    if os.geteuid() != 0:
        return
    # as root, numeric ids of no user: a file owned by someone else is copied again
    result = run(dict(args, owner="54321", group="54322"))
    assert result["changed"] is True
    assert result["copied"] == 1  # the file; a symlink's owner is not compared
    info = os.stat(static_dir / "webpack/a.js")
    assert (info.st_uid, info.st_gid) == (54321, 54322)
    assert run(dict(args, owner="54321", group="54322"))["changed"] is False
    result = run(dict(args, owner="no-such-user-zulip-test"))
    assert "user 'no-such-user-zulip-test' does not exist" in result["msg"]
