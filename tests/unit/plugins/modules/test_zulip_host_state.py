from __future__ import annotations

import pytest

from ansible_collections.zulip.server.plugins.modules import zulip_host_state


@pytest.fixture
def host(tmp_path):
    """Debian's PostgreSQL layout under tmp_path; returns the module's params."""
    params = {
        "postgresql_version": None,
        "conf_root": str(tmp_path / "etc"),
        "data_root": str(tmp_path / "lib"),
        "socket_dir": str(tmp_path / "run"),
        "fence_marker": str(tmp_path / "postgresql-fenced"),
        "app_marker": str(tmp_path / "app-frontend-active"),
    }
    return params


def make_cluster(tmp_path, version="15", standby=False):
    (tmp_path / "etc" / version / "main").mkdir(parents=True)
    data = tmp_path / "lib" / version / "main"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text(version)
    if standby:
        (data / "standby.signal").write_text("")
    return data


def down(_socket_dir):
    return None


def test_no_postgresql_is_absent(host):
    state = zulip_host_state.postgresql_state(host, ask=down)
    assert state["role"] == "absent" and state["version"] is None and not state["running"]


def test_installed_without_data_is_absent(host, tmp_path):
    (tmp_path / "etc" / "15" / "main").mkdir(parents=True)
    state = zulip_host_state.postgresql_state(host, ask=down)
    assert (state["role"], state["version"]) == ("absent", "15")


def test_highest_installed_version_is_used(host, tmp_path):
    make_cluster(tmp_path, "15")
    make_cluster(tmp_path, "17", standby=True)
    state = zulip_host_state.postgresql_state(host, ask=down, control=lambda b, d: (1, "7"))
    assert (state["version"], state["role"]) == ("17", "replica")
    host["postgresql_version"] = "15"
    assert zulip_host_state.postgresql_state(host, ask=down, control=lambda b, d: (1, "7"))["role"] == "primary"


def test_running_primary_reports_position_and_timeline(host, tmp_path):
    make_cluster(tmp_path)
    state = zulip_host_state.postgresql_state(
        host, ask=lambda s: ["f", "3", "0/3000148", "", "", "", "7301"])
    assert state["role"] == "primary" and state["running"]
    assert (state["timeline"], state["lsn"], state["receive_lsn"], state["streaming"]) == (3, "0/3000148", None, False)
    assert state["system_identifier"] == "7301"


def test_running_replica_reports_its_receiver(host, tmp_path):
    make_cluster(tmp_path, standby=True)
    state = zulip_host_state.postgresql_state(
        host, ask=lambda s: ["t", "1", "0/3000100", "0/3000148", "streaming", "0.250", "7301"])
    assert state["role"] == "replica"
    assert (state["lsn"], state["receive_lsn"], state["streaming"], state["replay_delay_s"]) == \
        ("0/3000100", "0/3000148", True, 0.25)


def test_in_recovery_wins_over_a_missing_standby_signal(host, tmp_path):
    """A running server is asked; the file is only a guess for a stopped one."""
    make_cluster(tmp_path, standby=False)
    state = zulip_host_state.postgresql_state(host, ask=lambda s: ["t", "1", "0/1", "0/1", "stopping", "", "7301"])
    assert state["role"] == "replica" and not state["streaming"] and state["replay_delay_s"] is None


def test_stopped_cluster_is_judged_by_standby_signal_and_control_file(host, tmp_path):
    data = make_cluster(tmp_path)
    seen = []

    def control(bin_dir, data_dir):
        seen.append((bin_dir, data_dir))
        return 2, "7301"

    state = zulip_host_state.postgresql_state(host, ask=down, control=control)
    assert (state["role"], state["running"], state["timeline"], state["system_identifier"]) == ("primary", False, 2, "7301")
    assert seen == [("/usr/lib/postgresql/15/bin", str(data))]


def test_fence_marker_wins_and_is_reported(host, tmp_path):
    make_cluster(tmp_path)
    (tmp_path / "postgresql-fenced").write_text("fenced 2026-11-27T18:00:00Z: zulip-db2 was promoted\n")
    state = zulip_host_state.postgresql_state(host, ask=lambda s: ["f", "1", "0/1", "", "", "", "7301"])
    assert state["role"] == "fenced"
    assert state["fence_note"] == "fenced 2026-11-27T18:00:00Z: zulip-db2 was promoted"


def test_module_reports_app_marker_and_changes_nothing(run_module, host, tmp_path):
    (tmp_path / "app-frontend-active").write_text("2026-11-27T18:00:00Z\n")
    result = run_module(zulip_host_state, host, check_mode=True)
    assert result["_rc"] == 0 and result["changed"] is False
    assert result["app_active_since"] == "2026-11-27T18:00:00Z"
    assert result["postgresql"]["role"] == "absent"
    (tmp_path / "app-frontend-active").unlink()
    assert run_module(zulip_host_state, host)["app_active_since"] is None


def test_control_file_is_parsed(tmp_path):
    tool = tmp_path / "pg_controldata"
    tool.write_text("#!/bin/sh\necho 'Database system identifier:           7301'\n"
                    "echo \"Latest checkpoint's TimeLineID:       4\"\n")
    tool.chmod(0o755)
    assert zulip_host_state.control_file(str(tmp_path), "/nonexistent") == (4, "7301")


def test_only_fully_installed_packages_are_listed(tmp_path):
    dpkg = tmp_path / "dpkg-query"
    dpkg.write_text("#!/bin/sh\nprintf 'installed nginx\\nhalf-configured redis-server\\nconfig-files memcached\\n"
                    "installed libc6\\ninstalled libc6\\nnot-installed\\n'\n")
    dpkg.chmod(0o755)
    assert zulip_host_state.installed_packages((str(dpkg),)) == ["libc6", "nginx"]
    assert zulip_host_state.installed_packages((str(tmp_path / "missing"),)) == []
