# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  Offline checks of what tests/release/build.sh produces.
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


def migrations(tar, top):
    return sorted(
        os.path.basename(m.name) for m in tar.getmembers()
        if m.name.startswith(f"{top}/migrations/") and m.name.endswith(".sql")
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_tarball_layout(version):
    top = f"zulip-server-{version}"
    with open_tarball(version) as tar:
        names = tar.getnames()
        assert all(n == top or n.startswith(top + "/") for n in names)
        text = read(tar, f"{top}/version.py")
        assert f'ZULIP_VERSION = "{version}"' in text
        assert f'ZULIP_MERGE_BASE = "{version}"' in text
        manage = tar.getmember(f"{top}/manage.py")
        assert manage.mode & 0o111
        assert read(tar, f"{top}/manage.py").startswith("#!/usr/bin/env python3\n")
        for tool in ("tools/update-prod-static", "scripts/lib/create-production-venv",
                     "scripts/restart-server", "scripts/start-server", "scripts/stop-server"):
            assert tar.getmember(f"{top}/{tool}").mode & 0o111, tool
        assert f"{top}/prod-static/serve/manifest.json" in names
        assert f"{top}/prod-static/serve/locale/en/LC_MESSAGES/django.mo" in names
        assert f"{top}/zproject/wsgi.py" in names
        assert f"{top}/zproject/prod_settings.py" not in names
        assert f"{top}/requirements/prod.txt" in names
        for m in tar.getmembers():
            assert m.uid == 0 and m.gid == 0
            if m.isfile() and not m.name.endswith((".mo", "/zulip-git-version")):
                assert HEADER in read(tar, m.name).lower()[:400], m.name


def feature_level(version, broken=False, variant=None):
    with open_tarball(version, broken, variant) as tar:
        text = read(tar, f"zulip-server-{version}/version.py")
    return int(re.search(r"API_FEATURE_LEVEL = (\d+)", text).group(1))


def test_feature_levels_increase():
    levels = [feature_level(v) for v in VERSIONS] + [feature_level("10.2", broken=True)]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    assert feature_level("10.2", variant="unstartable") == feature_level("10.2", broken=True)


def test_migrations_per_version():
    with open_tarball("9.4") as tar:
        assert migrations(tar, "zulip-server-9.4") == ["0001_initial.sql"]
    for v in ("10.0", "10.1"):
        with open_tarball(v) as tar:
            assert migrations(tar, f"zulip-server-{v}") == [
                "0001_initial.sql", "0002_message_edit_history.sql"]
    with open_tarball("10.2", broken=True) as tar:
        names = migrations(tar, "zulip-server-10.2")
        assert names[:2] == ["0001_initial.sql", "0002_message_edit_history.sql"]
        assert len(names) == 3 and names[2].startswith("0003_")
        assert "does_not_exist" in read(tar, f"zulip-server-10.2/migrations/{names[2]}")
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
        assert not any(f.startswith("prod-static/") for f in files)
        assert f'ZULIP_VERSION = "{v}"' in git("show", f"{v}:version.py")
        assert ("migrations/0002_message_edit_history.sql" in files) == (v != "9.4")
        assert "100755 blob" in git("ls-tree", v, "manage.py")


def test_second_build_is_a_noop():
    result = subprocess.run(["bash", os.path.join(HERE, "build.sh")], check=True,
                            capture_output=True, text=True)
    assert "up to date" in result.stdout


# Stand-ins for the venv's third-party modules, enough to import the
# application offline (nothing connects at import time).
STUBS = {
    "psycopg2/__init__.py": "class OperationalError(Exception): pass\nclass InterfaceError(Exception): pass\n",
    "psycopg2/extras.py": "",
}


def checkconfig(tmp_path, variant=None, version="10.1", code=None):
    """manage.py checkconfig of an unpacked release, against throwaway config
    files (zerver.commands directly: manage.py refuses to run as root); or
    other Python code run in the release's tree."""
    with open_tarball(version, variant=variant) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    tree = tmp_path / "unpacked" / f"zulip-server-{version}"
    for name, text in STUBS.items():
        (tmp_path / "stubs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "stubs" / name).write_text(text)
    (tmp_path / "settings.py").write_text('EXTERNAL_HOST = "zulip.example.org"\nZULIP_ADMINISTRATOR = "admin@example.org"\n')
    (tmp_path / "zulip-secrets.conf").write_text("[secrets]\nsecret_key = a\nshared_secret = b\nrabbitmq_password = c\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "stubs"), ZULIP_SETTINGS_PATH=str(tmp_path / "settings.py"),
               ZULIP_SECRETS_PATH=str(tmp_path / "zulip-secrets.conf"), ZULIP_CONF_PATH=str(tmp_path / "zulip.conf"))
    code = code or "import sys; from zerver.commands import main; sys.exit(main(['checkconfig']))"
    return subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True)


def test_checkconfig_loads_the_application(tmp_path):
    result = checkconfig(tmp_path)
    assert result.returncode == 0, result.stderr


TOP_10_2 = "zulip-server-10.2"


@pytest.mark.parametrize("variant", ["unstartable", "unhealthy"])
def test_late_10_2_variants_have_10_1s_schema(variant):
    with open_tarball("10.2", variant=variant) as tar:
        assert migrations(tar, TOP_10_2) == ["0001_initial.sql", "0002_message_edit_history.sql"]
        assert 'ZULIP_VERSION = "10.2"' in read(tar, f"{TOP_10_2}/version.py")
    with open(os.path.join(DIST, variant, "SHA256SUMS")) as f:
        assert f.read().split()[1] == "zulip-server-10.2.tar.gz"


def test_unstartable_variant(tmp_path):
    with open_tarball("10.2", variant="unstartable") as tar:
        assert "not_in_this_release" in read(tar, f"{TOP_10_2}/zproject/wsgi.py")
        assert f"{TOP_10_2}/zerver/HEALTH_FAILS_ON_PURPOSE" not in tar.getnames()
    result = checkconfig(tmp_path, variant="unstartable", version="10.2")
    assert result.returncode == 1
    assert "The application cannot be loaded: ModuleNotFoundError" in result.stderr


def test_unhealthy_variant(tmp_path):
    with open_tarball("10.2", variant="unhealthy") as tar:
        assert "/health answers 500" in read(tar, f"{TOP_10_2}/zerver/HEALTH_FAILS_ON_PURPOSE")
    # It starts: only its health check fails, and says why.
    result = checkconfig(tmp_path, variant="unhealthy", version="10.2")
    assert result.returncode == 0, result.stderr
    health = "from zerver import api; print(api.health(None))"
    assert "fails its health check on purpose" in checkconfig(tmp_path / "bad", "unhealthy", "10.2", health).stdout
    assert "on purpose" not in checkconfig(tmp_path / "good", None, "10.1", health).stdout
