from __future__ import annotations

from ansible_collections.zulip.server.plugins.module_utils import topology
from ansible_collections.zulip.server.plugins.module_utils.topology import Host

# Two clusters in one inventory (a fleet): "a" split over five hosts, "b" on one.
GROUPS = {
    "zulip_app_frontend": ["a-app1", "a-app2", "b-all"],
    "zulip_postgresql": ["a-db1", "b-all"],
    "zulip_postgresql_replica": ["a-db2", "a-db1"],
    "zulip_memcached": ["b-all", "a-svc"],
    "zulip_redis": ["a-svc", "b-all"],
    "zulip_rabbitmq": ["a-svc", "b-all"],
    "zulip_backup_repository": ["a-db2"],
}


def hosts(**states):
    out = {name: Host(cluster="b" if name.startswith("b-") else "a", address=name, debian="12")
           for group in GROUPS.values() for name in group}
    out["a-db1"].address = "10.0.0.11"
    for name, state in states.items():
        out[name.replace("_", "-")].state = state
    return out


def pg(role, running=True):
    return {"postgresql": {"role": role, "running": running}}


def test_each_cluster_has_its_own_hosts_in_inventory_order():
    a, running = topology.topology("a-app2", GROUPS, hosts())
    assert a["hosts"] == ["a-app1", "a-app2", "a-db1", "a-db2", "a-svc"]
    assert (a["app_frontends"], a["postgresql_hosts"], a["postgresql_addresses"]) == (
        ["a-app1", "a-app2"], ["a-db1", "a-db2"], ["10.0.0.11", "a-db2"])
    assert (a["memcached"], a["redis"], a["rabbitmq"], a["backup_repository"]) == ("a-svc", "a-svc", "a-svc", "a-db2")
    assert (a["postgresql_primary"], a["postgresql_replicas"], running) == ("a-db1", ["a-db2"], [])
    b, _ = topology.topology("b-all", GROUPS, hosts())
    assert b["hosts"] == ["b-all"] and b["backup_repository"] is None and b["postgresql_replicas"] == []


def test_a_promoted_replica_is_the_primary_and_the_fenced_host_is_nobodys_replica():
    a, _ = topology.topology("a-app1", GROUPS, hosts(a_db1=pg("fenced", False), a_db2=pg("primary")))
    assert (a["postgresql_primary"], a["postgresql_replicas"], a["postgresql_fenced"]) == ("a-db2", [], ["a-db1"])


def test_the_only_stopped_primary_stays_primary_and_two_running_ones_are_reported():
    a, running = topology.topology("a-app1", GROUPS, hosts(a_db1=pg("replica"), a_db2=pg("primary", False)))
    assert a["postgresql_primary"] == "a-db2" and running == []
    _, running = topology.topology("a-app1", GROUPS, hosts(a_db1=pg("primary"), a_db2=pg("primary")))
    assert running == ["a-db1", "a-db2"]
    # Two stopped primaries (neither known to be the newer one): the inventory's.
    a, _ = topology.topology("a-app1", GROUPS, hosts(a_db1=pg("primary", False), a_db2=pg("primary", False)))
    assert a["postgresql_primary"] == "a-db1"


def test_the_newest_marker_then_the_inventory_mark_then_the_first_app_server_is_active():
    marked = hosts()
    marked["a-app2"].marked_active = True
    assert topology.topology("a-db1", GROUPS, hosts())[0]["app_frontend_active"] == "a-app1"
    assert topology.topology("a-db1", GROUPS, marked)[0]["app_frontend_active"] == "a-app2"
    newest = hosts(a_app1={"app_active_since": "2026-12-08T10:00:00Z"}, a_app2={"app_active_since": "2026-12-08T09:00:00Z"})
    newest["a-app2"].marked_active = True
    assert topology.topology("a-db1", GROUPS, newest)[0]["app_frontend_active"] == "a-app1"


def test_the_postgresql_version_is_the_inventorys_else_the_primarys_debians_else_this_hosts():
    versions = {"12": 15, "13": 17}
    mixed = hosts()
    mixed["a-db1"].debian = "13"
    assert topology.topology("a-app1", GROUPS, mixed, None, versions)[0]["postgresql_version"] == 17
    assert topology.topology("a-app1", GROUPS, mixed, 16, versions)[0]["postgresql_version"] == 16
    no_db = {"zulip_app_frontend": ["web"]}
    assert topology.topology("web", no_db, {"web": Host(debian="12")}, None, versions)[0]["postgresql_version"] == 15
    assert topology.topology("web", no_db, {"web": Host()}, None, versions)[0]["postgresql_version"] is None


def test_services_listen_on_the_service_address_only_when_it_is_the_hosts_own():
    facts = {"all_ipv4_addresses": ["10.0.0.11", "172.17.0.2"], "default_ipv4": {"address": "172.17.0.2"}}
    assert topology.own_address("10.0.0.11", facts) == "10.0.0.11"
    assert topology.own_address("db1.example.org", facts) == "172.17.0.2"
    assert topology.own_address("db1", {}) == ""
