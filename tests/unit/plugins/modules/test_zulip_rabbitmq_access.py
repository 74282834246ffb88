from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest

from ansible_collections.zulip.server.plugins.modules import zulip_rabbitmq_access

PASSWORD = "s3cret-pass"


def hashed(password, salt=b"\x01\x02\x03\x04"):
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


ZULIP = {"name": "zulip", "password_hash": hashed(PASSWORD), "hashing_algorithm": "rabbit_password_hashing_sha256",
         "tags": ["administrator"]}
CONVERGED = {"users": [ZULIP], "vhosts": [{"name": "/"}, {"name": "zulip"}],
             "permissions": [{"user": "zulip", "vhost": "zulip", "configure": ".*", "write": ".*", "read": ".*"}]}


@pytest.fixture
def node(tmp_path, monkeypatch):
    """Fake rabbitmqctl and rabbitmq-plugins on PATH: they print the node's
    definitions (a file the test writes) and log every call with its stdin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    definitions = tmp_path / "definitions.json"
    for name in ("rabbitmqctl", "rabbitmq-plugins"):
        script = bin_dir / name
        script.write_text(f"""#!/bin/sh
case "$*" in *export_definitions*) cat {definitions}; exit 0;; esac
printf '%s %s <%s>\\n' {name} "$*" "$(cat)" >> {log}
""")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    plugins = tmp_path / "enabled_plugins"

    class Node:
        def set(self, data, enabled=None):
            definitions.write_text(json.dumps(data))
            if enabled is not None:
                plugins.write_text(enabled)

        def calls(self):
            return log.read_text().splitlines() if log.exists() else []

    n = Node()
    n.plugins = str(plugins)
    return n


@pytest.fixture
def run(run_module, node):
    def _run(check_mode=False, **args):
        args = dict({"user": "zulip", "password": PASSWORD, "tags": ["administrator"], "vhost": "zulip",
                     "node": "zulip@localhost", "enabled_plugins_file": node.plugins}, **args)
        return run_module(zulip_rabbitmq_access, args, check_mode=check_mode)

    return _run


def test_a_converged_node_is_left_alone(run, node):
    node.set(CONVERGED)
    result = run()
    assert result["_rc"] == 0 and not result["changed"] and result["actions"] == [], result
    assert node.calls() == []


def test_a_fresh_node_gets_everything_with_the_password_on_stdin(run, node):
    node.set({"users": [{"name": "guest", "password_hash": hashed("guest"), "tags": ["administrator"]}],
              "vhosts": [{"name": "/"}],
              "permissions": [{"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]},
             enabled="[rabbitmq_management].\n")
    result = run()
    assert result["changed"] and result["actions"] == [
        "disable plugin rabbitmq_management", "delete user guest", "add vhost zulip", "add user zulip",
        "set the tags of zulip to administrator", "grant zulip all rights on zulip"]
    calls = node.calls()
    assert f"rabbitmqctl -n zulip@localhost add_user zulip <{PASSWORD}>" in calls
    assert all(PASSWORD not in c.split("<")[0] for c in calls), "the password is never an argument"
    assert "rabbitmqctl -n zulip@localhost set_permissions -p zulip zulip .* .* .* <>" in calls


def test_a_wrong_password_is_changed(run, node):
    node.set(dict(CONVERGED, users=[dict(ZULIP, password_hash=hashed("old"))]))
    result = run()
    assert result["actions"] == ["change the password of zulip"]
    assert node.calls() == [f"rabbitmqctl -n zulip@localhost change_password zulip <{PASSWORD}>"]


def test_rights_elsewhere_are_cleared_and_narrow_rights_widened(run, node):
    node.set(dict(CONVERGED, permissions=[
        {"user": "zulip", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
        {"user": "zulip", "vhost": "zulip", "configure": "", "write": ".*", "read": ".*"}]))
    assert run()["actions"] == ["clear the rights of zulip on /", "grant zulip all rights on zulip"]


def test_check_mode_reports_and_runs_nothing(run, node):
    node.set(dict(CONVERGED, users=[dict(ZULIP, tags=[])]))
    result = run(check_mode=True)
    assert result["changed"] and result["actions"] == ["set the tags of zulip to administrator"]
    assert node.calls() == []


def test_an_unreachable_node_fails_with_its_message(run, node, tmp_path):
    (tmp_path / "bin" / "rabbitmqctl").write_text("#!/bin/sh\necho 'Error: unable to perform an operation' >&2\nexit 69\n")
    result = run()
    assert result["_rc"] != 0 and "unable to perform" in result["msg"] and "zulip@localhost" in result["msg"]


def test_the_password_check_follows_rabbitmqs_hash():
    assert zulip_rabbitmq_access.password_matches(ZULIP, PASSWORD)
    assert not zulip_rabbitmq_access.password_matches(ZULIP, PASSWORD + "x")
    assert not zulip_rabbitmq_access.password_matches(dict(ZULIP, password_hash=""), "")
    sha512 = base64.b64encode(b"salt" + hashlib.sha512(b"salt" + b"pw").digest()).decode()
    assert zulip_rabbitmq_access.password_matches(
        {"password_hash": sha512, "hashing_algorithm": "rabbit_password_hashing_sha512"}, "pw")
