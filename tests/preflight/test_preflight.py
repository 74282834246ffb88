"""Bad input fails before any host is changed, with a message naming the
variable and the fix (zulip.server.zulip_preflight, install.yml's first play)."""

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent
GROUPS = ["zulip_app_frontend", "zulip_postgresql", "zulip_memcached", "zulip_redis", "zulip_rabbitmq"]


def inventory(tmp_path, groups):
    # The controller itself, read-only; its own Python (interpreter discovery may
    # find a pyenv shim that does not run).
    lines = ["[all:vars]", "ansible_connection=local", "ansible_python_interpreter={{ ansible_playbook_python }}"]
    for group, hosts in groups.items():
        lines.append(f"[{group}]")
        lines.extend(hosts)
    path = tmp_path / "hosts.ini"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(tmp_path, groups, **extra):
    release = tmp_path / "zulip-server-10.1.tar.gz"
    release.write_bytes(b"release bytes")
    # A valid EXTERNAL_HOST unless a test gives its own.
    variables = {"zulip_release": str(release), "zulip_external_host": "zulip.example.net"}
    variables.update(extra)
    args = ["ansible-playbook", "-i", str(inventory(tmp_path, groups)), str(HERE / "preflight.yml")]
    for key, value in variables.items():
        args += ["-e", f"{key}={value}"]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})


def standalone(name="one"):
    return {g: [name] for g in GROUPS}


def test_a_valid_standalone_inventory_passes(tmp_path):
    result = run(tmp_path, standalone())
    assert result.returncode == 0, result.stdout[-2000:]


def test_two_database_hosts_refused(tmp_path):
    groups = standalone()
    groups["zulip_postgresql"] = ["one", "two"]
    result = run(tmp_path, groups)
    assert result.returncode != 0
    assert "exactly one in" in result.stdout and "zulip_postgresql=2" in result.stdout


def test_no_app_server_refused(tmp_path):
    groups = standalone()
    groups["zulip_app_frontend"] = []
    result = run(tmp_path, groups)
    assert result.returncode != 0
    assert "at least one host in zulip_app_frontend" in result.stdout


def test_missing_release_file_refused(tmp_path):
    result = run(tmp_path, standalone(), zulip_release=str(tmp_path / "nope.tar.gz"))
    assert result.returncode != 0
    assert "zulip_release=" in result.stdout and "no such file on the controller" in result.stdout


def test_release_sha256_mismatch_refused(tmp_path):
    result = run(tmp_path, standalone(), zulip_release_sha256="0" * 64)
    assert result.returncode != 0
    assert "not zulip_release_sha256=" in result.stdout


def test_release_sha256_match_passes(tmp_path):
    digest = hashlib.sha256(b"release bytes").hexdigest()
    result = run(tmp_path, standalone(), zulip_release_sha256=digest)
    assert result.returncode == 0, result.stdout[-2000:]


def test_url_without_sha256_refused(tmp_path):
    result = run(tmp_path, standalone(), zulip_release="https://download.example.org/zulip-server-10.1.tar.gz")
    assert result.returncode != 0
    assert "zulip_release_sha256" in result.stdout


@pytest.mark.parametrize("value", ["chat.example.com:8443", "zulip-up-app.lab.example", "1.2.3.4"])
def test_a_valid_external_host_passes(tmp_path, value):
    result = run(tmp_path, standalone(), zulip_external_host=value)
    assert result.returncode == 0, result.stdout[-2000:]


def test_external_host_without_a_domain_part_refused(tmp_path):
    result = run(tmp_path, standalone(), zulip_external_host="zulipchat")
    assert result.returncode != 0
    assert 'zulip_external_host="zulipchat" is refused' in result.stdout, result.stdout[-2000:]
    assert "EXTERNAL_HOST (zulipchat) does not contain a domain part: add .local to the end" in result.stdout
    assert "e.g. chat.example.com" in result.stdout


def test_empty_external_host_refused(tmp_path):
    result = run(tmp_path, standalone(), zulip_external_host="")
    assert result.returncode != 0
    assert 'zulip_external_host="" is refused' in result.stdout, result.stdout[-2000:]
    assert "EXTERNAL_HOST must be set" in result.stdout


def test_external_host_problems_listed_together(tmp_path):
    result = run(tmp_path, standalone(), zulip_external_host="exämple.com:99999")
    assert result.returncode != 0
    assert 'zulip_external_host="exämple.com:99999" is refused' in result.stdout, result.stdout[-2000:]
    assert "switch to punycode, xn--exmple-cua.com" in result.stdout
    assert "has the port '99999', which is not a number from 1 to 65535" in result.stdout


@pytest.mark.parametrize("variable", ["zulip_postgresql_memory_mb", "zulip_memcached_memory_mb", "zulip_app_frontend_uwsgi_processes"])
def test_non_positive_memory_override_refused(tmp_path, variable):
    result = run(tmp_path, standalone(), **{variable: 0})
    assert result.returncode != 0
    assert f"{variable} must be a positive number" in result.stdout


def upgrade_preflight(tmp_path, **extra):
    args = ["ansible-playbook", "-i", str(inventory(tmp_path, standalone())), str(HERE / "upgrade_preflight.yml")]
    for key, value in extra.items():
        args += ["-e", f"{key}={value}"]
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, "ANSIBLE_NOCOLOR": "1"})


@pytest.mark.parametrize("right", [True, False])
def test_upgrade_checks_a_local_tarball_sha256_before_touching_the_host(tmp_path, right):
    release = tmp_path / "zulip-server-10.1.tar.gz"
    release.write_bytes(b"release bytes")
    digest = hashlib.sha256(b"release bytes" if right else b"other bytes").hexdigest()
    result = upgrade_preflight(tmp_path, zulip_release=release, zulip_release_sha256=digest)
    assert result.returncode != 0
    if right:  # past the release check, stopped by the missing installation
        assert "its sha256 is" not in result.stdout and "install Zulip first" in result.stdout, result.stdout[-2000:]
    else:
        assert f"its sha256 is {hashlib.sha256(b'release bytes').hexdigest()}, not zulip_release_sha256={digest}" in result.stdout


def test_upgrade_refuses_a_missing_local_tarball(tmp_path):
    result = upgrade_preflight(tmp_path, zulip_release=tmp_path / "zulip-server-10.9.tar.gz")
    assert result.returncode != 0 and "no such file on the controller" in result.stdout, result.stdout[-2000:]
