from __future__ import annotations

import hashlib
import io
import os
import tarfile

import pytest

from ansible_collections.zulip.server.plugins.modules import zulip_external_dep


def sha(data):
    return hashlib.sha256(data).hexdigest()


def tarball(files, symlinks=None):
    """A .tar.gz holding files {name: bytes} (and symlinks {name: target})."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


@pytest.fixture
def dep(run_module, tmp_path):
    """Run the module on one dependency whose artifact holds data; the result is that dependency's entry."""
    root = tmp_path / "srv"
    root.mkdir()

    def run(data, version="2.8.0", check_mode=False, **args):
        artifact = tmp_path / f"artifact-{version}"
        artifact.write_bytes(data)
        one = dict({"name": "tusd", "version": version, "sha256": sha(data), "url": f"file://{artifact}"}, **args)
        one = {key: value for key, value in one.items() if value is not None}  # as omit does
        result = run_module(zulip_external_dep, {"deps": [one], "root": str(root), "architecture": "x86_64"},
                            check_mode=check_mode)
        return dict(result, **result.get("deps", {}).get(one["name"], {}))

    run.root = root
    return run


TUSD = tarball({"tusd_linux_amd64/tusd": b"#!/bin/sh\necho tusd\n", "tusd_linux_amd64/LICENSE": b"MIT\n"})


def test_a_tarball_is_installed_linked_and_left_alone_the_second_time(dep, tmp_path):
    link = str(tmp_path / "bin" / "tusd")
    args = {"tarball_prefix": "tusd_linux_amd64", "bin": ["tusd"], "links": [{"path": link, "target": "tusd"}]}
    first = dep(TUSD, **args)
    assert first["changed"] and first["installed"] and first["path"] == str(dep.root / "zulip-tusd-2.8.0")
    assert os.readlink(link) == f"{first['path']}/tusd" and os.access(link, os.X_OK)
    assert open(link).read() == "#!/bin/sh\necho tusd\n"
    second = dep(TUSD, **args)
    assert not second["changed"] and not second["installed"]


def test_a_wrong_checksum_installs_and_switches_nothing(dep, tmp_path):
    link = str(tmp_path / "tusd")
    args = {"tarball_prefix": "tusd_linux_amd64", "bin": ["tusd"], "links": [{"path": link, "target": "tusd"}]}
    dep(TUSD, **args)
    new = tarball({"tusd_linux_amd64/tusd": b"evil\n"})
    result = dep(new, version="2.9.0", sha256=sha(b"something else"), **args)
    assert result["_rc"] != 0 and "not installed, nothing switched" in result["msg"]
    assert sorted(os.listdir(dep.root)) == ["zulip-tusd-2.8.0"]
    assert os.readlink(link).endswith("zulip-tusd-2.8.0/tusd")


def test_a_new_version_switches_the_link_then_purges_the_old_one_only(dep, tmp_path):
    link = str(tmp_path / "tusd")
    args = {"tarball_prefix": "tusd_linux_amd64", "bin": ["tusd"], "links": [{"path": link, "target": "tusd"}]}
    dep(TUSD, **args)
    (dep.root / "zulip-tusd-notes").mkdir()  # not one of ours: no marker
    (dep.root / "zulip-go-camo-2.7.1").mkdir()
    new = tarball({"tusd_linux_amd64/tusd": b"v2.9\n"})
    result = dep(new, version="2.9.0", **args)
    assert result["purged"] == [str(dep.root / "zulip-tusd-2.8.0")]
    assert os.readlink(link).endswith("zulip-tusd-2.9.0/tusd")
    assert sorted(os.listdir(dep.root)) == ["zulip-go-camo-2.7.1", "zulip-tusd-2.9.0", "zulip-tusd-notes"]


def test_a_single_binary_and_a_name_that_prefixes_another(dep, tmp_path):
    binary = b"\x7fELF stand-in\n"
    go = dep(binary, name="go", version="1.25.3", links=[{"path": str(tmp_path / "go")}])
    camo = dep(binary + b"camo", name="go-camo", version="2.7.1")
    assert oct(os.stat(go["path"]).st_mode & 0o777) == "0o755" and os.readlink(tmp_path / "go") == go["path"]
    # A new go does not purge go-camo, whose name starts the same way.
    dep(binary + b"2", name="go", version="1.26.0")
    assert os.path.exists(camo["path"]) and not os.path.exists(go["path"])


def test_check_mode_changes_nothing(dep, tmp_path):
    result = dep(TUSD, check_mode=True, tarball_prefix="tusd_linux_amd64", links=[{"path": str(tmp_path / "l")}])
    assert result["changed"] and os.listdir(dep.root) == [] and not os.path.lexists(tmp_path / "l")


def test_a_file_already_on_the_host_is_used_instead_of_a_download(dep, tmp_path):
    (tmp_path / "offline.tar.gz").write_bytes(TUSD)
    # The default URL stays set (an inventory adds src to Zulip's pins): src wins.
    result = dep(TUSD, url="https://unreachable.invalid/tusd.tar.gz", src=str(tmp_path / "offline.tar.gz"),
                 tarball_prefix="tusd_linux_amd64")
    assert result["installed"] and os.path.isfile(os.path.join(result["path"], "tusd"))


def test_neither_url_nor_src_is_refused(dep):
    result = dep(TUSD, url=None)
    assert result["failed"] and "give url or src" in result["msg"]


def test_another_build_under_the_same_version_is_refused(dep):
    dep(TUSD, tarball_prefix="tusd_linux_amd64")
    other = tarball({"tusd_linux_amd64/tusd": b"rebuilt\n"})
    result = dep(other, tarball_prefix="tusd_linux_amd64")
    assert result["_rc"] != 0 and "holds another build" in result["msg"]


@pytest.mark.parametrize(("files", "links", "message"), [
    ({"other/x": b""}, None, "has no tusd_linux_amd64/"),
    ({"tusd_linux_amd64/../../etc/x": b""}, None, "has no tusd_linux_amd64/"),
    ({"tusd_linux_amd64/tusd": b""}, {"tusd_linux_amd64/evil": "/etc/passwd"}, "links out of the tarball"),
    ({"tusd_linux_amd64/tusd": b""}, {"tusd_linux_amd64/bin/evil": "../../x"}, "links out of the tarball"),
])
def test_a_tarball_that_escapes_its_directory_is_refused(dep, files, links, message):
    result = dep(tarball(files, links), tarball_prefix="tusd_linux_amd64")
    assert result["_rc"] != 0 and message in result["msg"]
    assert os.listdir(dep.root) == []


def test_an_unreachable_url_says_so(dep, tmp_path):
    result = dep(TUSD, url=f"file://{tmp_path}/missing.tar.gz")
    assert result["_rc"] != 0 and "cannot fetch" in result["msg"]


def test_zulips_per_architecture_checksums_and_placeholders(run_module, tmp_path):
    arm = tarball({"tusd_linux_arm64/tusd": b"arm\n"})
    (tmp_path / "tusd_linux_arm64.tar.gz").write_bytes(arm)
    one = {"name": "tusd", "version": "2.8.0", "url": f"file://{tmp_path}/tusd_linux_{{goarch}}.tar.gz",
           "sha256": {"amd64": sha(b"not this one"), "aarch64": sha(arm)}, "tarball_prefix": "tusd_linux_{goarch}",
           "bin": ["tusd"], "links": [{"path": str(tmp_path / "tusd"), "target": "tusd"}]}
    args = {"deps": [one], "root": str(tmp_path / "srv")}
    result = run_module(zulip_external_dep, dict(args, architecture="aarch64"))
    assert result["deps"]["tusd"]["installed"] and open(tmp_path / "tusd").read() == "arm\n"
    missing = run_module(zulip_external_dep, dict(args, architecture="x86_64", deps=[dict(one, sha256={"aarch64": sha(arm)})]))
    assert missing["_rc"] != 0 and "No sha256 found for tusd for architecture amd64" in missing["msg"]


def test_nodes_xz_tarball_with_its_relative_links_and_architecture_name(run_module, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        data = b"#!/bin/sh\necho corepack\n"
        info = tarfile.TarInfo("node-v22.14.0-linux-x64/lib/node_modules/corepack/dist/corepack.js")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("node-v22.14.0-linux-x64/bin/corepack")
        info.type, info.linkname = tarfile.SYMTYPE, "../lib/node_modules/corepack/dist/corepack.js"
        tar.addfile(info)
    (tmp_path / "node-v22.14.0-linux-x64.tar.xz").write_bytes(buf.getvalue())
    one = {"name": "node", "version": "22.14.0", "sha256": sha(buf.getvalue()),
           "url": f"file://{tmp_path}/node-v{{version}}-linux-{{nodearch}}.tar.xz",
           "tarball_prefix": "node-v{version}-linux-{nodearch}",
           "links": [{"path": str(tmp_path / "bin" / "corepack"), "target": "bin/corepack"}]}
    result = run_module(zulip_external_dep, {"deps": [one], "root": str(tmp_path / "srv"), "architecture": "x86_64"})
    assert result["deps"]["node"]["installed"]
    assert os.readlink(tmp_path / "srv" / "zulip-node-22.14.0" / "bin" / "corepack").startswith("../lib/")
    assert open(tmp_path / "bin" / "corepack").read() == "#!/bin/sh\necho corepack\n"


def test_one_bad_dependency_switches_none_of_them(run_module, tmp_path):
    good, bad = tmp_path / "camo", tmp_path / "smokescreen"
    good.write_bytes(b"camo\n")
    bad.write_bytes(b"tampered\n")
    deps = [{"name": "go-camo", "version": "2.7.1", "sha256": sha(b"camo\n"), "src": str(good),
             "links": [{"path": str(tmp_path / "bin" / "go-camo")}]},
            {"name": "smokescreen", "version": "1", "sha256": sha(b"original\n"), "src": str(bad)}]
    result = run_module(zulip_external_dep, {"deps": deps, "root": str(tmp_path / "srv"), "architecture": "x86_64"})
    assert result["_rc"] != 0 and "not installed, nothing switched" in result["msg"]
    assert os.listdir(tmp_path / "srv") == [] and not os.path.lexists(tmp_path / "bin" / "go-camo")
