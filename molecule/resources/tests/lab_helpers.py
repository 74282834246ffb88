"""Shared helpers and fixtures of the scenarios' testinfra tests (a module of its
own name: several scenarios mix these tests with others that have a conftest)."""

import configparser
import hashlib
import json
import os
import socket
import subprocess

import pytest
import testinfra
import testinfra.utils.ansible_runner

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])


def hosts_in(group):
    return RUNNER.get_hosts(group)


def first_in(group):
    return hosts_in(group)[0]


def zulip_checks(name):
    """zulip-check-all on one host (README "Monitoring"): {check: (state, message)}."""
    # Its exit code is the worst state (2 when any check is critical): not a failure here.
    run = get_host(name).run("/usr/local/bin/zulip-check-all --json")
    assert run.rc in (0, 1, 2), run.stderr
    return {r["check"]: (r["state"], r["message"]) for r in json.loads(run.stdout)}


def get_host(name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


def run_playbook(name, *extra):
    """Run playbooks/NAME.yml against the scenario's inventory, as an operator
    would; return (rc, stdout + stderr). JSON results keep error messages on
    one line; ansible-core 2.19 reports task errors on stderr."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    env = dict(os.environ, ANSIBLE_PIPELINING="1", ANSIBLE_FORCE_COLOR="false",
               # scenarios keep their CA there (molecule.yml)
               MOLECULE_EPHEMERAL_DIRECTORY=os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
               or os.path.dirname(os.path.dirname(inventory)),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    run = subprocess.run(
        ["ansible-playbook", "-i", inventory,
         os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "playbooks", f"{name}.yml"), *extra],
        env=env, capture_output=True, text=True, timeout=900, check=False)
    # ZULIP_LAB_PLAYBOOK_LOG=FILE keeps every run's output (with
    # ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks: where its time went).
    if os.environ.get("ZULIP_LAB_PLAYBOOK_LOG"):
        with open(os.environ["ZULIP_LAB_PLAYBOOK_LOG"], "a", encoding="utf-8") as log:
            log.write(f"=== playbooks/{name}.yml {' '.join(extra)}: rc {run.returncode}\n{run.stdout}{run.stderr}\n")
    return run.returncode, run.stdout + run.stderr


def release_running_on(name):
    """Extra variables naming the test release an app server runs now (the
    inventory names the one it was installed with: a test that upgraded the
    cluster leaves it stale, as an administrator updates theirs)."""
    version = get_host(name).check_output(
        "cd /home/zulip/deployments/current && python3 -c 'import version; print(version.ZULIP_VERSION)'")
    tarball = os.path.join(os.environ["MOLECULE_PROJECT_DIRECTORY"], "tests", "release", "dist",
                           f"zulip-server-{version}.tar.gz")
    with open(tarball, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    return ["-e", json.dumps({"zulip_release": tarball, "zulip_release_sha256": digest})]


def app_variables(name):
    """An app server's inventory variables (as written: not templated)."""
    return RUNNER.get_variables(name)


def active_app():
    """The app server marked active, else the first (as zulip_base decides)."""
    marked = [h for h in hosts_in("zulip_app_frontend") if app_variables(h).get("zulip_app_frontend_active")]
    return (marked or hosts_in("zulip_app_frontend"))[0]


def lab_ca():
    """The lab CA that signed the certificates given to install.yml, if any."""
    return os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "tls", "ca.crt")


def total_memory_mib(host):
    """Zulip's total_memory_mb: MemTotal in MiB, as the host reports it."""
    for line in host.file("/proc/meminfo").content_string.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def secrets_of(host):
    parser = configparser.RawConfigParser()
    parser.read_string(host.file("/etc/zulip/zulip-secrets.conf").content_string)
    return dict(parser["secrets"])


def secret(host, name):
    return secrets_of(host)[name]


@pytest.fixture(scope="session")
def app_host():
    return get_host(active_app())


BOT_RC = "/home/zulip/credentials/ops.zuliprc"
# install.yml's opt-in organization, owner password and bot (README "The organization").
OPT_IN = ["-e", "zulip_app_frontend_create_realm=true", "-e", "zulip_app_frontend_owner_password_file=true",
          "-e", "zulip_app_frontend_bot_short_name=ops"]


@pytest.fixture(scope="session")
def zuliprc(app_host, tmp_path_factory):
    """The bot's zuliprc from the active app server, with its site resolved
    to the container and its CA the lab CA when the server was given a
    certificate, else the server's own (self-signed) certificate. A scenario
    installed with the defaults (an organization creation link, no bot) gets
    the organization and the bot from install.yml's opt-in variables first."""
    name = active_app()
    if not app_host.file(BOT_RC).exists:
        rc, out = run_playbook("install", "--tags", "zulip_app_frontend_initialize", *OPT_IN)
        assert rc == 0, out[-3000:]
    address = app_host.run("hostname -I").stdout.split()[0]
    site_host = RUNNER.get_variables(name)["zulip_external_host"]
    real_getaddrinfo = socket.getaddrinfo

    def lab_getaddrinfo(host, *args, **kwargs):
        # The lab's names resolve inside the docker network only.
        return real_getaddrinfo(address if host == site_host else host, *args, **kwargs)

    socket.getaddrinfo = lab_getaddrinfo
    # requests lets these variables override a session's own CA bundle.
    saved_env = {k: os.environ.pop(k) for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if k in os.environ}
    workdir = tmp_path_factory.mktemp("zulip")
    ca = workdir / "ca.crt"
    if app_variables(name).get("zulip_app_frontend_tls_cert"):
        ca.write_text(open(lab_ca()).read())
    else:
        ca.write_text(app_host.file("/etc/ssl/certs/zulip.combined-chain.crt").content_string)
    rc = workdir / "zuliprc"
    rc.write_text(app_host.file(BOT_RC).content_string)
    yield {"config_file": str(rc), "cert_bundle": str(ca), "site_host": site_host}
    socket.getaddrinfo = real_getaddrinfo
    os.environ.update(saved_env)


def recreate(name):
    """Replace the container NAME by a new, empty one of the same image, flags,
    network and name (a lost server replaced by a new one)."""
    import docker  # the lab's controller venv (molecule's docker driver)

    engine = docker.from_env()
    old = engine.containers.get(name)
    attrs = old.attrs
    config, host_config = attrs["Config"], attrs["HostConfig"]
    network = next(iter(attrs["NetworkSettings"]["Networks"]))
    old.remove(force=True)
    engine.containers.run(
        config["Image"], config["Cmd"], name=name, hostname=config["Hostname"], detach=True, network=network,
        cap_add=host_config["CapAdd"], security_opt=host_config["SecurityOpt"], cgroupns=host_config["CgroupnsMode"],
        volumes=host_config["Binds"], tmpfs=host_config["Tmpfs"], stop_signal=config.get("StopSignal"))
    wait = get_host(name)
    for _ in range(120):
        if wait.run("systemctl is-system-running --wait").stdout.strip() in ("running", "degraded"):
            return
    raise AssertionError(f"{name}: systemd did not start")
