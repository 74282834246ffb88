# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""A cluster as it is now, from the inventory's groups and what each host said
it is (zulip.server.zulip_host_state): its hosts, the primary, the replicas,
the fenced hosts and the active app server. Used by the zulip_topology action
(zulip.server.zulip_base, tasks/topology.yml); pure functions, unit-tested."""

from __future__ import annotations

from dataclasses import dataclass, field

# The groups that give a host its job (docs/architecture.md).
APP = "zulip_app_frontend"
PRIMARY = "zulip_postgresql"
REPLICA = "zulip_postgresql_replica"
ROLE_GROUPS = (APP, PRIMARY, REPLICA, "zulip_memcached", "zulip_redis", "zulip_rabbitmq", "zulip_backup_repository")


@dataclass
class Host:
    """What the topology reads of one host."""
    cluster: str = "zulip"
    address: str = ""  # how the cluster's other hosts reach it (zulip_service_address, else its name)
    state: dict = field(default_factory=dict)  # its zulip_host_state answer in this play, if any
    marked_active: bool = False  # zulip_app_frontend_active in the inventory
    debian: str = ""  # its Debian major version, when its facts were gathered


def cluster_hosts(cluster, groups, cluster_of):
    """Every host of the cluster in inventory order (group by group, first listing wins)."""
    out = []
    for group in ROLE_GROUPS:
        for name in groups.get(group) or []:
            if name not in out and cluster_of(name) == cluster:
                out.append(name)
    return out


def postgresql_roles(database_hosts, hosts):
    """The database hosts by what they said they are: running and stopped
    primaries (no standby.signal), and fenced hosts. Hosts that did not answer
    (not in the play, or unreachable) are in none."""
    out = {"running": [], "stopped": [], "fenced": []}
    for name in database_hosts:
        postgresql = hosts[name].state.get("postgresql") or {}
        if postgresql.get("role") == "fenced":
            out["fenced"].append(name)
        elif postgresql.get("role") == "primary":
            out["running" if postgresql.get("running") else "stopped"].append(name)
    return out


def primary(database_hosts, roles):
    """The primary now: a running one, else the only stopped one, else the
    inventory's first database host that is not fenced (a fresh cluster, or
    no answers)."""
    if roles["running"]:
        return roles["running"][0]
    if len(roles["stopped"]) == 1:
        return roles["stopped"][0]
    return next((h for h in database_hosts if h not in roles["fenced"]), None)


def active_app(apps, hosts):
    """The active app server: the one whose app-frontend-active marker is the
    newest (failover.yml made it active last), else the first the inventory
    marks with zulip_app_frontend_active, else the first."""
    discovered = sorted((h for h in apps if hosts[h].state.get("app_active_since")),
                        key=lambda h: hosts[h].state["app_active_since"], reverse=True)
    marked = [h for h in apps if hosts[h].marked_active]
    return (discovered + marked + apps or [None])[0]


def topology(me, groups, hosts, postgresql_version=None, distro_versions=None):
    """zulip_base_topology of host me's cluster, and the primaries that run
    (more than one: split brain). hosts: {name: Host} for me and at least the
    cluster's hosts; groups: the inventory's groups."""
    cluster = hosts[me].cluster
    members = cluster_hosts(cluster, groups, lambda name: hosts[name].cluster)

    def in_cluster(group):
        return [h for h in dict.fromkeys(groups.get(group) or []) if h in members]

    database = list(dict.fromkeys(in_cluster(PRIMARY) + in_cluster(REPLICA)))
    roles = postgresql_roles(database, hosts)
    now = primary(database, roles)
    apps = in_cluster(APP)
    # The primary's Debian decides (no database host: this host's).
    version = postgresql_version or (distro_versions or {}).get(hosts[now or me].debian)
    return {
        "cluster": cluster,
        "hosts": members,
        "app_frontends": apps,
        "app_frontend_active": active_app(apps, hosts),
        "postgresql_primary": now,
        "postgresql_hosts": database,
        "postgresql_addresses": [hosts[h].address for h in database],
        "postgresql_replicas": [h for h in database if h != now and h not in roles["fenced"]],
        "postgresql_fenced": roles["fenced"],
        "postgresql_version": version,
        "backup_repository": next(iter(in_cluster("zulip_backup_repository")), None),
        "memcached": next(iter(in_cluster("zulip_memcached")), None),
        "redis": next(iter(in_cluster("zulip_redis")), None),
        "rabbitmq": next(iter(in_cluster("zulip_rabbitmq")), None),
    }, roles["running"]


def own_address(address, facts):
    """The address this host's services listen on for others: its
    zulip_service_address when that is one of its own, else its default IPv4
    address."""
    mine = list(facts.get("all_ipv4_addresses") or []) + list(facts.get("all_ipv6_addresses") or [])
    return address if address in mine else (facts.get("default_ipv4") or {}).get("address", "")
