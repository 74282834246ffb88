# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  Offline checks of what tests/release/build.sh produces.
import json
import os
import re
import subprocess
import sys
import tarfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DIST = os.path.join(HERE, "dist")
VERSIONS = ["9.4", "10.0", "10.1"]
HEADER = "test double"


@pytest.fixture(scope="session", autouse=True)
def built():
    subprocess.run(["bash", os.path.join(HERE, "build.sh")], check=True, capture_output=True)


def open_tarball(version, broken=False, variant=None):
    d = os.path.join(DIST, variant or ("broken" if broken else ""))
    return tarfile.open(os.path.join(d, f"zulip-server-{version}.tar.gz"))


def read(tar, name):
    return tar.extractfile(tar.getmember(name)).read().decode()


def migrations(version, variant=None):
    top = f"zulip-server-{version}"
    with open_tarball(version, variant=variant) as tar:
        return sorted(
            os.path.basename(m.name) for m in tar.getmembers()
            if m.name.startswith(f"{top}/zerver/migrations/0") and m.name.endswith(".py")
        )


@pytest.mark.parametrize("version", VERSIONS)
def test_tarball_layout(version):
    top = f"zulip-server-{version}"
    with open_tarball(version) as tar:
        names = tar.getnames()
        assert all(n == top or n.startswith(top + "/") for n in names)
        text = read(tar, f"{top}/version.py")
        assert f'ZULIP_VERSION = "{version}"' in text
        assert read(tar, f"{top}/zulip-git-version") == f"{version}\n{version}\n"
        manage = tar.getmember(f"{top}/manage.py")
        assert manage.mode & 0o111
        assert read(tar, f"{top}/manage.py").startswith("#!/usr/bin/env python3\n")
        for tool in ("tools/update-prod-static", "scripts/lib/create-production-venv",
                     "scripts/lib/check-database-compatibility", "scripts/setup/generate_secrets.py",
                     "scripts/setup/initialize-database", "scripts/reload-clients",
                     "scripts/restart-server", "scripts/start-server", "scripts/stop-server"):
            assert tar.getmember(f"{top}/{tool}").mode & 0o111, tool
        # Prebuilt assets: the hashed bundles the deployment's webpack stats name.
        stats = json.loads(read(tar, f"{top}/webpack-stats-production.json"))
        assert stats["status"] == "done"
        for files in stats["chunks"].values():
            for name in files:
                assert f"{top}/prod-static/serve/webpack-bundles/{name}" in names
        assert f"{top}/prod-static/serve/webpack-bundles/5xx.html" in names
        assert f"{top}/locale/de/LC_MESSAGES/django.mo" in names
        assert f"{top}/zproject/wsgi.py" in names
        assert f"{top}/zproject/prod_settings.py" not in names
        assert any(n.startswith(f"{top}/wheelhouse/django-") for n in names)
        for m in tar.getmembers():
            assert m.uid == 0 and m.gid == 0
            if m.isfile() and not m.name.endswith((".mo", ".whl", ".json", "/zulip-git-version")):
                assert HEADER in read(tar, m.name).lower()[:400], m.name


def test_asset_names_differ_between_releases():
    """An upgrade must not overwrite the old page's assets: new names."""
    def bundles(version):
        with open_tarball(version) as tar:
            stats = json.loads(read(tar, f"zulip-server-{version}/webpack-stats-production.json"))
        return {name for files in stats["chunks"].values() for name in files}

    assert not bundles("9.4") & bundles("10.0")


def feature_level(version, broken=False, variant=None):
    with open_tarball(version, broken, variant) as tar:
        text = read(tar, f"zulip-server-{version}/version.py")
    return int(re.search(r"API_FEATURE_LEVEL = (\d+)", text).group(1))


def test_feature_levels_increase():
    levels = [feature_level(v) for v in VERSIONS] + [feature_level("10.2", broken=True)]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    assert feature_level("10.2", variant="unstartable") == feature_level("10.2", broken=True)


def test_migrations_per_version():
    assert migrations("9.4") == ["0001_initial.py", "0002_attachment.py", "0003_realm_deactivated.py"]
    for v in ("10.0", "10.1"):
        assert migrations(v) == ["0001_squashed_0003.py", "0004_message_edit_history.py"]
    assert migrations("10.2", variant="broken") == [
        "0001_squashed_0003.py", "0004_message_edit_history.py", "0005_broken_rendered_content.py"]
    with open_tarball("10.0") as tar:
        squash = read(tar, "zulip-server-10.0/zerver/migrations/0001_squashed_0003.py")
    assert 'replaces = [("zerver", "0001_initial"), ("zerver", "0002_attachment"), ("zerver", "0003_realm_deactivated")]' in squash
    assert not os.path.exists(os.path.join(DIST, "zulip-server-10.2.tar.gz"))


def test_sha256sums():
    import hashlib

    with open(os.path.join(DIST, "SHA256SUMS")) as f:
        lines = [line.split() for line in f if line.strip()]
    assert sorted(name for _, name in lines) == sorted(f"zulip-server-{v}.tar.gz" for v in VERSIONS)
    for digest, name in lines:
        with open(os.path.join(DIST, name), "rb") as t:
            assert hashlib.sha256(t.read()).hexdigest() == digest


def git(*args):
    return subprocess.run(["git", "--git-dir", os.path.join(DIST, "zulip.git"), *args],
                          check=True, capture_output=True, text=True).stdout


def test_git_repository():
    assert set(git("tag", "--list").split()) == {"9.4", "10.0", "10.1"}
    assert git("rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git("rev-parse", "main").strip() == git("rev-parse", "10.1^{commit}").strip()
    for v in VERSIONS:
        files = git("ls-tree", "-r", "--name-only", v).split()
        assert "manage.py" in files and "tools/update-prod-static" in files
        assert not any(f.startswith(("prod-static/", "static/")) or f == "webpack-stats-production.json"
                       for f in files)
        assert any(f.startswith("wheelhouse/django-") for f in files)
        assert f'ZULIP_VERSION = "{v}"' in git("show", f"{v}:version.py")
        assert ("zerver/migrations/0001_squashed_0003.py" in files) == (v != "9.4")
        assert "100755 blob" in git("ls-tree", v, "manage.py")


def test_second_build_is_a_noop():
    result = subprocess.run(["bash", os.path.join(HERE, "build.sh")], check=True,
                            capture_output=True, text=True)
    assert "up to date" in result.stdout


TOP_10_2 = "zulip-server-10.2"


@pytest.mark.parametrize("variant", ["unstartable", "unhealthy"])
def test_late_10_2_variants_have_10_1s_schema(variant):
    assert migrations("10.2", variant=variant) == migrations("10.1")
    with open_tarball("10.2", variant=variant) as tar:
        assert 'ZULIP_VERSION = "10.2"' in read(tar, f"{TOP_10_2}/version.py")
    with open(os.path.join(DIST, variant, "SHA256SUMS")) as f:
        assert f.read().split()[1] == "zulip-server-10.2.tar.gz"


def test_only_the_variants_carry_their_faults():
    with open_tarball("10.2", variant="unstartable") as tar:
        assert "not_in_this_release" in read(tar, f"{TOP_10_2}/zproject/wsgi.py")
        assert f"{TOP_10_2}/zerver/HEALTH_FAILS_ON_PURPOSE" not in tar.getnames()
    with open_tarball("10.2", variant="unhealthy") as tar:
        assert "/health answers 500" in read(tar, f"{TOP_10_2}/zerver/HEALTH_FAILS_ON_PURPOSE")
        assert "not_in_this_release" not in read(tar, f"{TOP_10_2}/zproject/wsgi.py")
    with open_tarball("10.1") as tar:
        assert "zulip-server-10.1/zerver/HEALTH_FAILS_ON_PURPOSE" not in tar.getnames()


SINCE_10 = ["zerver/management/commands/runtusd.py", "zerver/tusd.py"]


@pytest.mark.parametrize("version, variant", [("9.4", None), ("10.0", None), ("10.1", None), ("10.2", "broken"),
                                              ("10.2", "unstartable"), ("10.2", "unhealthy")])
def test_tusd_support_ships_from_10_0(version, variant):
    """Zulip 10's resumable uploads (runtusd, the hook): not in 9.x."""
    with open_tarball(version, variant=variant) as tar:
        names = set(tar.getnames())
    for name in SINCE_10:
        assert (f"zulip-server-{version}/{name}" in names) == (version != "9.4"), name
    for tag in VERSIONS:
        files = git("ls-tree", "-r", "--name-only", tag).split()
        for name in SINCE_10:
            assert (name in files) == (tag != "9.4"), (tag, name)


def test_tusd_stand_in_archives():
    """As tusd's release archives: tusd_linux_<arch>/tusd, in SHA256SUMS."""
    import hashlib

    with open(os.path.join(DIST, "deps", "SHA256SUMS")) as f:
        sums = {name: digest for digest, name in (line.split() for line in f if line.strip())}
    assert set(sums) == set(os.listdir(os.path.join(DIST, "deps"))) - {"SHA256SUMS"}
    for goarch in ("amd64", "arm64"):
        name = f"tusd_linux_{goarch}.tar.gz"
        path = os.path.join(DIST, "deps", name)
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == sums[name]
        with tarfile.open(path) as tar:
            files = [m for m in tar.getmembers() if m.isfile()]
            assert [m.name for m in files] == [f"tusd_linux_{goarch}/tusd"]
            assert files[0].mode == 0o755 and files[0].mtime == 1704067200 and files[0].uid == 0
            assert 'VERSION = "2.8.0"' in read(tar, files[0].name)


NODE = {"9.4": "20.12.2", "10.0": "22.14.0", "10.1": "22.14.0", "10.2": "22.14.0"}


def deps_sums():
    with open(os.path.join(DIST, "deps", "SHA256SUMS")) as f:
        return {name: digest for digest, name in (line.split() for line in f if line.strip())}


def check_install_node(text, version):
    """The pinned version and per-architecture sha256, in the shape deploy
    tooling parses, match the Node.js archives of dist/deps."""
    node = NODE[version]
    assert re.search(r"^version=(\S+)$", text, re.M).group(1) == node
    for uname, arch in (("x86_64", "x64"), ("aarch64", "arm64")):
        arm = re.search(rf'^    {uname}\)\n        tarball="node-v\$version-linux-{arch}\.tar\.xz"\n'
                        r"        sha256=([0-9a-f]{64})\n        ;;$", text, re.M)
        assert arm, (version, uname)
        assert arm.group(1) == deps_sums()[f"node-v{node}-linux-{arch}.tar.xz"]


@pytest.mark.parametrize("version, variant", [("9.4", None), ("10.0", None), ("10.1", None), ("10.2", "broken"),
                                              ("10.2", "unstartable"), ("10.2", "unhealthy")])
def test_releases_pin_node_and_ship_katex(version, variant):
    top = f"zulip-server-{version}"
    with open_tarball(version, variant=variant) as tar:
        assert tar.getmember(f"{top}/scripts/lib/install-node").mode == 0o755
        check_install_node(read(tar, f"{top}/scripts/lib/install-node"), version)
        names = set(tar.getnames())
        for name in ("katex_server.js", "katex-cli.js"):  # unhashed, as webpack's server bundles
            assert f"{top}/prod-static/serve/webpack-bundles/{name}" in names
        assert f"{top}/zerver/lib/tex.py" in names
    if variant is None:
        check_install_node(git("show", f"{version}:scripts/lib/install-node"), version)
        files = git("ls-tree", "-r", "--name-only", version).split()
        assert "web/server/katex_server.py" in files and "zerver/lib/tex.py" in files


def test_node_archives():
    """As nodejs.org's: node-v<version>-linux-<arch>/, bin/ links (relative)
    into lib/node_modules/; in SHA256SUMS."""
    import hashlib

    sums = deps_sums()
    for version in ("20.12.2", "22.14.0"):
        for arch in ("x64", "arm64"):
            name = f"node-v{version}-linux-{arch}.tar.xz"
            path = os.path.join(DIST, "deps", name)
            with open(path, "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == sums[name]
            top = f"node-v{version}-linux-{arch}"
            with tarfile.open(path, "r:xz") as tar:
                members = {m.name: m for m in tar.getmembers()}
                assert all(n == top or n.startswith(top + "/") for n in members)
                node = members[f"{top}/bin/node"]
                assert node.isfile() and node.mode == 0o755 and node.uid == 0
                assert f'VERSION = "{version}"' in read(tar, node.name)
                links = {n[len(top) + 1:]: m.linkname for n, m in members.items() if m.issym()}
                assert links == {"bin/corepack": "../lib/node_modules/corepack/dist/corepack.js",
                                 "bin/npm": "../lib/node_modules/npm/bin/npm-cli.js",
                                 "bin/npx": "../lib/node_modules/npm/bin/npx-cli.js"}
                for target in ("corepack/dist/corepack.js", "corepack/dist/pnpm.js", "npm/bin/npm-cli.js",
                               "npm/bin/npx-cli.js"):
                    assert members[f"{top}/lib/node_modules/{target}"].isfile()
