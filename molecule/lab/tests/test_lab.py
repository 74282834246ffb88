"""The lab works: systemd boots as PID 1, hosts resolve each other, the mirror answers."""

import os

import pytest
import testinfra.utils.ansible_runner

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("lab")
ALL_HOSTS = sorted(testinfra_hosts)


def test_systemd_is_pid_1_and_running(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"
    state = host.run("systemctl is-system-running --wait")
    assert state.stdout.strip() == "running", host.run("systemctl --failed --no-legend").stdout


@pytest.mark.parametrize("peer", ALL_HOSTS)
def test_peers_resolve_and_answer(host, peer):
    address = host.run(f"getent hosts {peer}")
    assert address.rc == 0, f"{peer} does not resolve"
    ping = host.run(f"bash -c 'exec 3<>/dev/tcp/{peer}/22' 2>&1; true")
    # No sshd runs in the lab: a refused connection proves the peer's network
    # stack answered by name (a timeout or unknown host would not say "refused").
    assert "refused" in ping.stdout.lower() or ping.rc == 0


def test_package_mirror_reachable(host):
    update = host.run("apt-get -q update")
    assert update.rc == 0, update.stderr
    assert "Err:" not in update.stdout, update.stdout
    policy = host.run("apt-cache policy postgresql")
    assert "Candidate:" in policy.stdout
    assert "Candidate: (none)" not in policy.stdout
