"""What an admin relies on from the service hosts: reachable only where they
must be, refusing unauthenticated clients, sized by Zulip's formulas."""

import pytest

from lab_helpers import first_in, get_host, hosts_in, secret, secrets_of, total_memory_mib

CLUSTER = sorted(set(hosts_in("zulip_app_frontend") + hosts_in("zulip_postgresql")
                     + hosts_in("zulip_memcached") + hosts_in("zulip_redis") + hosts_in("zulip_rabbitmq")))
APPS = hosts_in("zulip_app_frontend")


def listen_addresses(host, port):
    """Local addresses a TCP port listens on."""
    out = host.run(f"ss -Htln 'sport = :{port}'").stdout
    return sorted({line.split()[3].rsplit(":", 1)[0].strip("[]") for line in out.splitlines()})


def expected_listen(service_host):
    """127.0.0.1 when the only app server is the service host itself; else its address."""
    if APPS == [service_host]:
        return ["127.0.0.1"]
    return [get_host(service_host).run("hostname -I").stdout.split()[0]]


@pytest.mark.parametrize("name", CLUSTER)
def test_secrets_file_is_private_and_identical(name):
    host = get_host(name)
    f = host.file("/etc/zulip/zulip-secrets.conf")
    assert (f.user, f.group, f.mode) == ("zulip", "zulip", 0o640)
    # The same secrets, as Zulip reads them (lines may have been appended in
    # another order: the release's generate_secrets.py adds its own).
    assert secrets_of(host) == secrets_of(get_host(CLUSTER[0])), f"{name}'s secrets differ from {CLUSTER[0]}'s"


@pytest.mark.parametrize("name", CLUSTER)
def test_secrets_unchanged_by_the_second_converge(name):
    # converge.yml recorded the file's checksum after the first converge (and
    # never overwrites the record); idempotence has run a second converge since.
    host = get_host(name)
    recorded = host.file("/var/lib/zulip-lab/secrets.sha256").content_string.strip()
    assert host.file("/etc/zulip/zulip-secrets.conf").sha256sum == recorded


def test_memcached_sasl_only_and_sized():
    name = first_in("zulip_memcached")
    host = get_host(name)
    assert listen_addresses(host, 11211) == expected_listen(name)
    conf = host.file("/etc/memcached.conf").content_string.split("\n")
    assert f"-m {total_memory_mib(host) // 8}" in conf  # spec §6.1: RAM/8
    assert "-S" in conf
    # A text-protocol client without SASL gets no answer from a SASL-only server.
    probe = host.run("timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211; printf \"stats\\r\\n\" >&3; timeout 1 cat <&3'")
    assert "STAT pid" not in probe.stdout


def test_redis_requires_its_password():
    name = first_in("zulip_redis")
    host = get_host(name)
    assert listen_addresses(host, 6379) == expected_listen(name)
    address = expected_listen(name)[0]
    assert "NOAUTH" in host.run(f"redis-cli -h {address} ping").stdout
    password = secret(host, "redis_password")
    authed = host.run(f"REDISCLI_AUTH={password} redis-cli -h {address} ping")
    assert authed.stdout.strip() == "PONG"
    assert host.run(f"REDISCLI_AUTH={password} redis-cli -h {address} config get save").stdout.split("\n")[1] == ""


def test_rabbitmq_own_user_no_guest():
    name = first_in("zulip_rabbitmq")
    host = get_host(name)
    assert listen_addresses(host, 5672) == expected_listen(name)
    assert listen_addresses(host, 25672) == ["127.0.0.1"]
    users = host.run("rabbitmqctl -q list_users").stdout
    assert "guest" not in users and "zulip" in users
    assert host.run("rabbitmqctl -q authenticate_user zulip not-the-password").rc != 0


def test_postgresql_sized_and_no_stray_access():
    name = first_in("zulip_postgresql")
    host = get_host(name)
    memory = total_memory_mib(host)
    shared_buffers = host.run("runuser -u postgres -- psql -Atc 'SHOW shared_buffers'").stdout.strip()
    assert shared_buffers == f"{memory // 8}MB"  # spec §5.3
    hba = [line for line in host.run("runuser -u postgres -- psql -Atc 'TABLE pg_hba_file_rules'").stdout.splitlines() if line]
    remote_apps = [a for a in APPS if a != name]
    # peer for postgres and for zulip, one scram line per remote app server,
    # and the replication role's (the ha tests check those), nothing else.
    zulip_rules = [rule for rule in hba if "{replicator}" not in rule]
    assert len(zulip_rules) == 2 + len(remote_apps), hba
    assert all("trust" not in rule for rule in hba)


# One -vvv run per make test: the split scenario's five hosts take every path
# the one-host run takes, plus the cluster-wide merge of secrets read on each.
@pytest.mark.skipif(len(CLUSTER) < 2, reason="runs in the multi-host scenario (split), a superset of this one")
def test_verbose_run_prints_no_secret():
    """-vvv on the secrets and base tasks must not reveal any secret value."""
    import os
    import subprocess

    project = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.getcwd())
    run = subprocess.run(
        ["ansible-playbook", "-vvv", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
         "--tags", "zulip_base", f"{project}/playbooks/install.yml"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "ANSIBLE_PIPELINING": "1"},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    host = get_host(CLUSTER[0])
    values = [line.split("=", 1)[1].strip() for line in host.file("/etc/zulip/zulip-secrets.conf").content_string.splitlines()
              if "=" in line]
    assert len(values) >= 10
    output = run.stdout + run.stderr
    leaked = [value[:4] + "..." for value in values if value in output]
    assert not leaked, f"secret values printed by -vvv: {leaked}"
