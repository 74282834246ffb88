# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The preflight's rules: every input of every role and playbook, checked on
the controller before any host is touched (action ``zulip.server.zulip_preflight``).

A rule sees one host's effective inputs (what its roles would read: the
inventory's and extra vars, else the role defaults) and the inventory's groups.
It returns problems, each naming the variable, its value and the fix.
``RULES`` is the registry; ``docs/preflight.md`` is generated from it
(``tests/preflight/render_doc.py``) and a unit test keeps the two equal.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
from dataclasses import dataclass, field

# Groups that give a host its job (docs/architecture.md).
APP = "zulip_app_frontend"
PRIMARY = "zulip_postgresql"
REPLICA = "zulip_postgresql_replica"
SERVICE_GROUPS = ["zulip_memcached", "zulip_redis", "zulip_rabbitmq"]
# The host keeping a cluster's backups (zulip.server.zulip_postgresql_backups).
REPOSITORY = "zulip_backup_repository"
GROUPS = [APP, PRIMARY, REPLICA] + SERVICE_GROUPS + [REPOSITORY]
# The restore drill's scratch host (playbooks/restore-drill.yml replaces its
# PostgreSQL data and removes it afterwards): never one of the above.
DRILL = "zulip_restore_drill"
DATABASE = (PRIMARY, REPLICA)
BACKUPS = DATABASE + (REPOSITORY,)
ANY = tuple(GROUPS)

# Which role entry points a playbook runs on a host of these groups: their
# argument specs (types, choices) and the rules of their variables apply.
_INSTALL = [
    (ANY, "zulip_base", "main"),
    (DATABASE, "zulip_postgresql", "main"),
    (("zulip_memcached",), "zulip_memcached", "main"),
    (("zulip_redis",), "zulip_redis", "main"),
    (("zulip_rabbitmq",), "zulip_rabbitmq", "main"),
    ((APP,), "zulip_app_frontend", "main"),
    ((APP,), "zulip_restart_cron", "main"),
    ((APP,), "zulip_postgresql", "client"),
    (BACKUPS, "zulip_postgresql_backups", "main"),
    ((APP,), "zulip_postgresql_backups", "files"),
    (DATABASE, "zulip_process_fts_updates", "main"),
    (ANY, "zulip_monitoring", "main"),
]
# failover.yml's and rejoin.yml's second play converges with parts of them:
# zulip_base's secrets and zulip.conf, the database hosts' replication (main's
# variables), and in app mode (failover-app) the app servers.
_CONVERGE = [
    (ANY, "zulip_base", "main"),
    (DATABASE, "zulip_postgresql", "main"),
]
_UPGRADE = [
    ((APP,), "zulip_base", "main"),
    ((APP,), "zulip_app_frontend", "main"),
    ((APP,), "zulip_static_asset_compiler", "main"),
    ((APP,), "zulip_upgrade", "main"),
]
ENTRY_POINTS = {
    "install": _INSTALL,
    # restore.yml: the install roles, and the restore's own inputs on the primary.
    "restore": _INSTALL + [((PRIMARY,), "zulip_postgresql_backups", "restore-database")],
    "backup": [(BACKUPS, "zulip_postgresql_backups", "main"), ((APP,), "zulip_postgresql_backups", "files")],
    "upgrade": _UPGRADE,
    "rollback": [((APP,), "zulip_upgrade", "rollback")],
    "failover": _CONVERGE + [(ANY, "zulip_failover", "main")],
    "failover-app": _CONVERGE + [(ANY, "zulip_failover", "main"), ((APP,), "zulip_app_frontend", "main"),
                                 ((APP,), "zulip_postgresql", "client")],
    "rejoin": _CONVERGE + [(ANY, "zulip_failover", "rejoin")],
}
PLAYBOOKS = tuple(ENTRY_POINTS)


@dataclass
class Inputs:
    """What the rules see of one host."""

    host: str
    playbook: str
    # The host's effective values, after the argument specs' type conversion.
    values: dict
    # Inventory groups: name -> hosts.
    groups: dict
    # Per host of the inventory: its cluster and whether it is marked zulip_app_frontend_active.
    hosts: dict = field(default_factory=dict)
    # The variables the inventory or extra vars set (the rest are role defaults).
    user_set: frozenset = frozenset()

    def member(self, group, host=None):
        return (host or self.host) in self.groups.get(group, [])

    @property
    def cluster(self):
        return self.cluster_of(self.host)

    def cluster_of(self, host):
        return (self.hosts.get(host) or {}).get("cluster") or "zulip"

    def cluster_members(self, group):
        return [h for h in self.groups.get(group, []) if self.cluster_of(h) == self.cluster]

    def get(self, name, default=None):
        return self.values.get(name, default)

    def named(self, role_variable, inventory_variable):
        """The variable to name in a message: the role's when it was set, else the inventory-wide one it defaults to."""
        return role_variable if role_variable in self.user_set else inventory_variable


@dataclass
class Problem:
    variable: str
    value: object
    reason: str
    fix: str

    def __str__(self):
        return f"{self.variable}={_show(self.value)}: {self.reason}. {self.fix}"


def _show(value):
    try:
        return json.dumps(value, ensure_ascii=False)
    except TypeError:
        return repr(value)


@dataclass
class Rule:
    rule_id: str
    variables: tuple
    groups: tuple
    playbooks: tuple
    doc: str
    check: object  # callable(Inputs) -> iterable of Problem
    # Inputs that break the rule (for the tests): {variable: value} on a standalone
    # inventory, or ({variable: value}, {group: hosts}).
    bad: list

    def applies(self, inputs):
        return inputs.playbook in self.playbooks and any(inputs.member(g) for g in self.groups)


RULES = []


def rule(rule_id, variables, doc, bad, groups=ANY, playbooks=PLAYBOOKS):
    def register(check):
        RULES.append(Rule(rule_id, tuple(variables), tuple(groups), tuple(playbooks), doc, check, bad))
        return check

    return register


def check(inputs):
    """Every problem of one host, in the registry's order."""
    problems = []
    for r in RULES:
        if r.applies(inputs):
            problems.extend(r.check(inputs))
    return problems


# ---------------------------------------------------------------- value rules
# One variable, one condition. ``when`` restricts it to hosts where the role
# that reads the variable runs.

def _int_range(name, low, high, groups, playbooks=PLAYBOOKS, fix="", optional=False):
    span = f"from {low} to {high}" if high is not None else f"of at least {low}"
    doc = f"an integer {span}" + (" (or unset)" if optional else "")

    def check_range(inputs):
        value = inputs.get(name)
        if value is None and optional:
            return []
        if value is None or isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            return [Problem(name, value, f"must be {doc}", fix or f"Set {name} to an integer {span}.")]
        return []

    rule(f"range:{name}", [name], doc, bad=[{name: low - 1}], groups=groups, playbooks=playbooks)(check_range)


def _pattern(name, regex, doc, fix, groups, playbooks=PLAYBOOKS, bad=None, allow_empty=False, alias=None):
    """``alias``: the inventory-wide variable the role's defaults to, named unless the role's was set."""
    compiled = re.compile(regex)

    def check_pattern(inputs):
        value = inputs.get(name)
        if value is None or (allow_empty and value == ""):
            return []
        if not isinstance(value, str) or not compiled.fullmatch(value):
            return [Problem(inputs.named(name, alias) if alias else name, value, f"must be {doc}", fix)]
        return []

    rule(f"pattern:{name}", [name], doc + (" (or empty)" if allow_empty else ""),
         bad=[{name: b} for b in (bad or ["bad value!"])], groups=groups, playbooks=playbooks)(check_pattern)


_APP = (APP,)
_PG_HOSTS = DATABASE
_PG_CLIENT = (APP, PRIMARY, REPLICA)
_UPGRADES = ("upgrade", "rollback")
_FAILOVERS = ("failover", "failover-app")
# Playbooks that run the role the variable belongs to.
# restore.yml runs install.yml's roles after the restore: their rules apply to it too.
_INSTALL_ONLY = ("install", "restore")
_APP_CONVERGE = ("install", "restore", "failover-app")
_DB_CONVERGE = ("install", "restore", "failover", "failover-app", "rejoin")

# zulip_app_frontend
_int_range("zulip_app_frontend_nginx_listen_port", 1, 65535, _APP, _APP_CONVERGE, optional=True)
_int_range("zulip_app_frontend_nginx_worker_connections", 1, 1048576, _APP, _APP_CONVERGE)
_int_range("zulip_app_frontend_uwsgi_processes", 1, 1024, _APP, _APP_CONVERGE, optional=True,
           fix="Set zulip_app_frontend_uwsgi_processes to a positive number, or leave it unset for Zulip's formula.")
_int_range("zulip_app_frontend_uwsgi_listen_backlog_limit", 1, 65535, _APP, _APP_CONVERGE)
_int_range("zulip_app_frontend_restart_timeout", 1, None, _APP, _APP_CONVERGE)
_int_range("zulip_app_frontend_service_file_descriptor_limit", 1024, 1048576, _APP, _APP_CONVERGE)
_int_range("zulip_app_frontend_access_log_retention_days", 1, 3650, _APP, _APP_CONVERGE)
_int_range("zulip_app_frontend_http_proxy_port", 1, 65535, _APP, _APP_CONVERGE)
_int_range("zulip_app_frontend_katex_server_port", 1, 65535, _APP, _APP_CONVERGE)
# zulip_postgresql
_int_range("zulip_postgresql_version", 15, None, _PG_HOSTS, _DB_CONVERGE, optional=True,
           fix="Set zulip_postgresql_version to 15 or newer (Zulip's minimum), or leave it unset for Debian's own.")
_int_range("zulip_postgresql_memory_mb", 1, None, _PG_HOSTS, _DB_CONVERGE, optional=True,
           fix="Set zulip_postgresql_memory_mb to a positive number of MiB, or leave it unset for the host's memory.")
_int_range("zulip_postgresql_max_connections", 1, 262143, _PG_HOSTS, _DB_CONVERGE)
_int_range("zulip_postgresql_effective_io_concurrency", 0, 1000, _PG_HOSTS, _DB_CONVERGE, optional=True)
# zulip_memcached
_int_range("zulip_memcached_memory_mb", 1, None, ("zulip_memcached",), _INSTALL_ONLY, optional=True,
           fix="Set zulip_memcached_memory_mb to a positive number of MiB, or leave it unset for Zulip's formula.")
# zulip_upgrade (upgrade.yml, rollback.yml)
_int_range("zulip_upgrade_restart_timeout", 1, None, _APP, _UPGRADES)
_int_range("zulip_upgrade_health_timeout", 1, None, _APP, _UPGRADES)
_int_range("zulip_upgrade_keep_deployments", 0, None, _APP, _UPGRADES)
# zulip_failover
_int_range("zulip_failover_catchup_timeout", 1, None, ANY, _FAILOVERS)

_pattern("zulip_memcached_max_item_size", r"[0-9]+[kKmM]?", "a memcached -I size: a number with an optional k or m",
         "Use a size such as 1m, 2m or 512k.", ("zulip_memcached",), _INSTALL_ONLY, bad=["1 MB"])
_PG_SIZE = r"[0-9]+(kB|MB|GB|TB)"
_pattern("zulip_postgresql_max_slot_wal_keep_size", _PG_SIZE + r"|-1",
         "a PostgreSQL size with a unit (kB, MB, GB, TB; the case matters), or -1 for no limit",
         "Use a size such as 4GB.", _PG_HOSTS, _DB_CONVERGE, bad=["4gb"])
_pattern("zulip_postgresql_wal_keep_size", _PG_SIZE, "a PostgreSQL size with a unit (kB, MB, GB, TB; the case matters)",
         "Use a size such as 1GB.", _PG_HOSTS, _DB_CONVERGE, bad=["1 G"])
_PG_ROLE = r"[a-z_][a-z0-9_]{0,62}"
for _name in ("zulip_postgresql_database_name", "zulip_postgresql_database_user", "zulip_postgresql_replication_user"):
    _pattern(_name, _PG_ROLE, "a plain PostgreSQL name: lower-case letters, digits and _, not starting with a digit, at most 63",
             f"Set {_name} to a name such as zulip.", _PG_CLIENT if _name != "zulip_postgresql_replication_user" else _PG_HOSTS,
             _DB_CONVERGE, bad=["Zulip-DB"])
for _name in ("zulip_rabbitmq_user", "zulip_rabbitmq_vhost"):
    _pattern(_name, r"[A-Za-z0-9_.-]{1,255}", "1 to 255 letters, digits, _, . or -", f"Set {_name} to a name such as zulip.",
             ("zulip_rabbitmq", APP), _INSTALL_ONLY, bad=["", "zulip vhost"])
_pattern("zulip_base_cluster", r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}",
         "a cluster name: letters, digits, _, . and -, starting with a letter or digit (it names directories)",
         "Set zulip_cluster to a name such as chat-eu.", ANY, PLAYBOOKS, bad=["../x"], alias="zulip_cluster")
_pattern("zulip_base_deploy_type", r"[a-z_]+", "a zulip.conf [machine] deploy_type such as production",
         "Leave zulip_base_deploy_type at production.", ANY, _DB_CONVERGE, bad=["prod uction"])
_pattern("zulip_app_frontend_admin_email", r"[^@\s]+@[^@\s]+", "an email address",
         "Set zulip_admin_email to the address of the server's administrator, e.g. admin@example.com.",
         _APP, _APP_CONVERGE, bad=["admin", "admin@ example.com"], alias="zulip_admin_email")
_pattern("zulip_app_frontend_bot_short_name", r"[a-z0-9][a-z0-9_-]{0,99}",
         "a bot short name: lower-case letters, digits, _ and -", "Set zulip_app_frontend_bot_short_name to a name such as "
         "lab-bot, or to \"\" for no bot.", _APP, _APP_CONVERGE, bad=["Lab Bot"], allow_empty=True)
_pattern("zulip_app_frontend_local_uploads_dir", r"/[^\0\s]*", "an absolute path",
         "Set zulip_app_frontend_local_uploads_dir to an absolute directory (default /home/zulip/uploads), or \"\" for S3.",
         _APP, _APP_CONVERGE, bad=["uploads"], allow_empty=True)
_pattern("zulip_app_frontend_s3_endpoint_url", r"https?://[^\s/]+(/\S*)?", "an http or https URL",
         "Set zulip_app_frontend_s3_endpoint_url to the storage's URL, e.g. https://s3.example.com, or \"\" for AWS.",
         _APP, _APP_CONVERGE, bad=["s3.example.com"], allow_empty=True)
_pattern("zulip_process_fts_updates_source", r"/[^\0\s]*", "an absolute path (on the active app server)",
         "Set zulip_process_fts_updates_source to the release's process_fts_updates, e.g. /home/zulip/deployments/current/"
         "puppet/zulip/files/postgresql/process_fts_updates.", _PG_HOSTS, _INSTALL_ONLY, bad=["process_fts_updates"])
_pattern("zulip_app_frontend_external_deps_ca_file", r"/[^\0\s]*", "an absolute path (on the host)",
         "Set zulip_app_frontend_external_deps_ca_file to the CA bundle's path on the host, or \"\" for the system's.",
         _APP, _APP_CONVERGE, bad=["ca.crt"], allow_empty=True)
_pattern("zulip_upgrade_log", r"/[^\0\s]*", "an absolute path", "Set zulip_upgrade_log to a file such as "
         "/var/log/zulip/upgrade.log.", _APP, _UPGRADES, bad=["upgrade.log"])
_pattern("zulip_upgrade_git_repo_url", r"(https?|ssh|git|file)://\S+|[\w.-]+@[\w.-]+:\S+|/\S+", "a git URL or an absolute path",
         "Set zulip_upgrade_git_repo_url to e.g. https://github.com/zulip/zulip.git, or \"\" for zulip.conf's.",
         _APP, ("upgrade",), bad=["github.com/zulip/zulip"], allow_empty=True)
_pattern("zulip_base_git_repo_url", r"(https?|ssh|git|file)://\S+|[\w.-]+@[\w.-]+:\S+|/\S+", "a git URL or an absolute path",
         "Set zulip_base_git_repo_url to e.g. https://github.com/zulip/zulip.git.", ANY, _DB_CONVERGE + ("upgrade",),
         bad=["zulip"])
_pattern("zulip_failover_floating_interface", r"[A-Za-z0-9_.:@-]{1,15}", "a network interface name (at most 15 characters)",
         "Set zulip_failover_floating_interface to e.g. eth0, or \"\" for the interface of the host's default route.",
         ANY, _FAILOVERS, bad=["eth 0"], allow_empty=True)


def _cron_field(name, low, high, names=()):
    words = {w: i for i, w in enumerate(names)}
    doc = f"a cron field over {low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "") + ": *, N, N-M, lists with , and /step"

    def number(text):
        text = text.lower()
        if text in words:
            return words[text]
        if not re.fullmatch(r"[0-9]+", text):
            return None
        return int(text)

    def valid(value):
        for part in str(value).split(","):
            base, _, step = part.partition("/")
            if step and (not re.fullmatch(r"[0-9]+", step) or int(step) == 0):
                return False
            if base == "*":
                continue
            ends = base.split("-")
            if len(ends) > 2 or any(number(e) is None or not low <= number(e) <= high for e in ends):
                return False
            if len(ends) == 2 and number(ends[0]) > number(ends[1]):
                return False
        return True

    def check_cron(inputs):
        value = inputs.get(name)
        if value is None or not valid(value):
            return [Problem(name, value, f"must be {doc}", f"Set {name} to a value from {low} to {high}, e.g. \"{low}\".")]
        return []

    rule(f"cron:{name}", [name], doc, bad=[{name: str(high + 1)}, {name: "1-"}], groups=_APP, playbooks=_INSTALL_ONLY)(check_cron)


for _name, _example in (("zulip_monitoring_plugins_dir", "/usr/lib/nagios/plugins"),
                       ("zulip_monitoring_state_dir", "/var/lib/nagios_state")):
    _pattern(_name, r"/[^\0\s]*", "an absolute path", f"Set {_name} to a directory such as {_example}.", ANY,
             _INSTALL_ONLY, bad=["nagios"])
_int_range("zulip_monitoring_queue_warning_count", 0, None, ANY, _INSTALL_ONLY)
_int_range("zulip_monitoring_queue_critical_count", 0, None, ANY, _INSTALL_ONLY)


@rule("monitoring:queue_counts", ["zulip_monitoring_queue_warning_count", "zulip_monitoring_queue_critical_count"],
      "the warning count is at most the critical count",
      bad=[{"zulip_monitoring_queue_warning_count": 60, "zulip_monitoring_queue_critical_count": 50}], playbooks=_INSTALL_ONLY)
def _queue_counts(inputs):
    warning, critical = inputs.get("zulip_monitoring_queue_warning_count"), inputs.get("zulip_monitoring_queue_critical_count")
    if isinstance(warning, int) and isinstance(critical, int) and warning > critical:
        return [Problem("zulip_monitoring_queue_warning_count", warning, f"must not exceed zulip_monitoring_queue_critical_count ({critical})",
                        "Lower the warning count or raise the critical one.")]
    return []


_cron_field("zulip_restart_cron_minute", 0, 59)
_cron_field("zulip_restart_cron_hour", 0, 23)
_cron_field("zulip_restart_cron_weekday", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))


def _is_ip(text, network=False):
    try:
        (ipaddress.ip_interface if network else ipaddress.ip_address)(text)
    except ValueError:
        return False
    return True


# A DNS name whose last label is not all digits (10.0.0.300 is no hostname).
_HOSTNAME_RE = re.compile(r"(?=.{1,253}$)((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)*(?!-)(?![0-9]+$)[A-Za-z0-9-]{1,63}(?<!-)")


def _address(name, groups, doc, fix, hostname=False, network=False, playbooks=_INSTALL_ONLY):
    def check_address(inputs):
        value = inputs.get(name)
        if value in (None, ""):
            return []
        text = str(value)
        if _is_ip(text, network) or (hostname and _HOSTNAME_RE.fullmatch(text)):
            return []
        return [Problem(name, value, f"must be {doc}", fix)]

    rule(f"address:{name}", [name], doc + " (or unset)", bad=[{name: "10.0.0.300"}], groups=groups, playbooks=playbooks)(check_address)


for _name, _groups in (("zulip_memcached_listen_address", ("zulip_memcached",)),
                       ("zulip_redis_listen_address", ("zulip_redis",)),
                       ("zulip_rabbitmq_listen_address", ("zulip_rabbitmq",))):
    _address(_name, _groups, "an IP address of the host", f"Set {_name} to one of the host's IP addresses, or leave it unset.")
_address("zulip_service_address", ANY, "an IP address or a hostname",
         "Set zulip_service_address to the address the cluster's other hosts reach this host at.", hostname=True,
         playbooks=PLAYBOOKS)
_address("zulip_failover_floating_address", ANY, "an IP address, with an optional /prefix",
         "Set zulip_failover_floating_address to e.g. 10.0.0.50/24, or \"\" for none.", network=True, playbooks=_FAILOVERS)


_address("zulip_app_frontend_smokescreen_listen_address", _APP, "an IP address",
         "Set zulip_app_frontend_smokescreen_listen_address to e.g. 127.0.0.1.", playbooks=_APP_CONVERGE)
_address("zulip_app_frontend_http_proxy_host", _APP, "an IP address or a hostname",
         "Set zulip_app_frontend_http_proxy_host to the proxy's name (localhost: Smokescreen), or \"\" for none.",
         hostname=True, playbooks=_APP_CONVERGE)


def _ips(name, network):
    doc = "a CIDR range such as 10.0.0.0/8" if network else "an IP address"

    def check_ips(inputs):
        value = inputs.get(name) or []
        wrong = [v for v in value if not isinstance(v, str) or (network and "/" not in v) or not _is_ip(v, network)]
        if wrong:
            return [Problem(name, value, f"{', '.join(_show(w) for w in wrong)}: each must be {doc}",
                            f"List each as {doc} in {name}.")]
        return []

    rule(f"list:{name}", [name], f"a list, each item {doc}", bad=[{name: ["10.0.0.300" + ("/8" if network else "")]}],
         groups=_APP, playbooks=_APP_CONVERGE)(check_ips)


for _kind in ("allow", "deny"):
    _ips(f"zulip_app_frontend_smokescreen_{_kind}_addresses", False)
    _ips(f"zulip_app_frontend_smokescreen_{_kind}_ranges", True)

_EXTERNAL_DEPS = ("golang", "smokescreen-src", "go-camo", "tusd", "node")
_EXTERNAL_DEP_KEYS = ("version", "sha256", "url", "src", "tarball_prefix", "bin", "mode")


@rule("app:external_deps", ["zulip_app_frontend_external_deps"],
      f"{{name: {{key: value}}}} with names among {', '.join(_EXTERNAL_DEPS)} and keys among {', '.join(_EXTERNAL_DEP_KEYS)}; "
      "url http(s):// or file://, src an absolute path",
      bad=[{"zulip_app_frontend_external_deps": {"go": {"url": "https://go.dev/dl/go.tar.gz"}}},
           {"zulip_app_frontend_external_deps": {"golang": {"src": "go.tar.gz"}}}],
      groups=_APP, playbooks=_APP_CONVERGE)
def _external_deps(inputs):
    name = "zulip_app_frontend_external_deps"
    value = inputs.get(name) or {}
    fix = ("Write zulip_app_frontend_external_deps as e.g. {golang: {url: https://mirror.example/go{version}.linux-{goarch}.tar.gz}} "
           "or {golang: {src: /var/cache/go1.25.3.linux-amd64.tar.gz}}.")
    for dep, keys in value.items():
        if dep not in _EXTERNAL_DEPS or not isinstance(keys, dict):
            return [Problem(name, value, f"{_show(dep)} must be one of {', '.join(_EXTERNAL_DEPS)}, holding a mapping", fix)]
        unknown = [k for k in keys if k not in _EXTERNAL_DEP_KEYS]
        if unknown:
            return [Problem(name, value, f"{dep}: unknown keys {', '.join(map(_show, unknown))}", fix)]
        if keys.get("url") and not re.fullmatch(r"(https?|file)://\S+", str(keys["url"])):
            return [Problem(name, value, f"{dep}: url must be an http(s):// or file:// URL", fix)]
        if keys.get("src") and not str(keys["src"]).startswith("/"):
            return [Problem(name, value, f"{dep}: src must be an absolute path on the host", fix)]
    return []


@rule("postgresql:listen_addresses", ["zulip_postgresql_listen_addresses"],
      "a comma-separated list of IP addresses, hostnames or *, without quotes", bad=[{"zulip_postgresql_listen_addresses": "'*'"}],
      groups=_PG_HOSTS, playbooks=_DB_CONVERGE)
def _listen_addresses(inputs):
    name = "zulip_postgresql_listen_addresses"
    value = inputs.get(name)
    if value is None:
        return []
    parts = [p.strip() for p in str(value).split(",")]
    if all(p == "*" or _is_ip(p) or _HOSTNAME_RE.fullmatch(p) for p in parts):
        return []
    return [Problem(name, value, "must be IP addresses, hostnames or *, separated by commas (the role adds the quotes)",
                    "Set zulip_postgresql_listen_addresses to e.g. localhost,10.0.0.5, or leave it unset.")]


@rule("postgresql:random_page_cost", ["zulip_postgresql_random_page_cost"], "a positive number (or unset)",
      bad=[{"zulip_postgresql_random_page_cost": 0.0}], groups=_PG_HOSTS, playbooks=_DB_CONVERGE)
def _random_page_cost(inputs):
    value = inputs.get("zulip_postgresql_random_page_cost")
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
        return []
    return [Problem("zulip_postgresql_random_page_cost", value, "must be a positive number",
                    "Set zulip_postgresql_random_page_cost to e.g. 1.1 for SSDs, or leave it unset.")]


def _names(name, regex, doc, fix, groups, playbooks, bad_item):
    compiled = re.compile(regex)

    def check_names(inputs):
        value = inputs.get(name) or []
        wrong = [v for v in value if not isinstance(v, str) or not compiled.fullmatch(v)]
        if wrong:
            return [Problem(name, value, f"{', '.join(_show(w) for w in wrong)}: each must be {doc}", fix)]
        return []

    rule(f"list:{name}", [name], f"a list, each item {doc}", bad=[{name: [bad_item]}], groups=groups, playbooks=playbooks)(check_names)


_DEB = r"[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?"
_names("zulip_base_packages", _DEB, "a Debian package name (with an optional =version)",
       "List Debian package names in zulip_base_packages.", ANY, _INSTALL_ONLY, "python3 yaml")
_names("zulip_static_asset_compiler_packages", _DEB, "a Debian package name (with an optional =version)",
       "List Debian package names in zulip_static_asset_compiler_packages.", _APP, ("upgrade",), "Gettext")
_names("zulip_app_frontend_authentication_backends", r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+",
       "a dotted Python path such as zproject.backends.EmailAuthBackend",
       "List backends such as zproject.backends.EmailAuthBackend in zulip_app_frontend_authentication_backends.",
       _APP, _APP_CONVERGE, "EmailAuthBackend")


@rule("base:conf_extra", ["zulip_base_conf_extra"], "{section: {key: value}} with zulip.conf names (letters, digits, _ and -) "
      "and scalar values on one line", bad=[{"zulip_base_conf_extra": {"machine": "deploy_type"}}], playbooks=_DB_CONVERGE)
def _conf_extra(inputs):
    name = "zulip_base_conf_extra"
    value = inputs.get(name) or {}
    word = re.compile(r"[A-Za-z0-9_-]+")
    for section, keys in value.items():
        if not word.fullmatch(str(section)) or not isinstance(keys, dict):
            return [Problem(name, value, f"section {_show(section)} must be a zulip.conf section name holding a mapping of keys",
                            "Write zulip_base_conf_extra as {section: {key: value}}, e.g. {application_server: {http_only: true}}.")]
        for key, item in keys.items():
            if not word.fullmatch(str(key)) or isinstance(item, (dict, list)) or "\n" in str(item):
                return [Problem(name, value, f"[{section}] {_show(key)} must be a zulip.conf key with a one-line scalar value",
                                "Write zulip_base_conf_extra as {section: {key: value}}.")]
    return []


# ---------------------------------------------------------- the cluster's shape

@rule("cluster:one-database-group", [PRIMARY, REPLICA], "a host is in zulip_postgresql or zulip_postgresql_replica, not both",
      bad=[({}, {PRIMARY: ["one"], REPLICA: ["one"]})], groups=DATABASE)
def _one_database_group(inputs):
    if inputs.member(PRIMARY) and inputs.member(REPLICA):
        return [Problem("groups", [PRIMARY, REPLICA], f"{inputs.host} is in both",
                        f"Keep {inputs.host} in {PRIMARY} if it is the primary, or in {REPLICA} if it is a hot spare, not in both.")]
    return []


@rule("cluster:drill-host-apart", [DRILL], "a host in zulip_restore_drill is in no other Zulip group "
      "(restore-drill.yml replaces its database and removes it)", bad=[({}, {PRIMARY: ["one"], DRILL: ["one"]})])
def _drill_host_apart(inputs):
    if inputs.member(DRILL):
        return [Problem("groups", [DRILL], f"{inputs.host} is in {DRILL} and in "
                        f"{', '.join(g for g in GROUPS if inputs.member(g))}: the drill would replace its database",
                        f"Give the restore drill a scratch host of its own in {DRILL}, one that holds nothing else.")]
    return []


@rule("cluster:shape", [APP, PRIMARY] + SERVICE_GROUPS + ["zulip_app_frontend_active"],
      "each cluster has at least one app server and exactly one host in each of zulip_postgresql, zulip_memcached, zulip_redis "
      "and zulip_rabbitmq, and at most one app server with zulip_app_frontend_active",
      bad=[({}, {APP: [], PRIMARY: ["one"], "zulip_memcached": ["one"], "zulip_redis": ["one"], "zulip_rabbitmq": ["one"]}),
           ({}, {APP: ["one"], PRIMARY: ["one", "two"], "zulip_memcached": ["one"], "zulip_redis": ["one"], "zulip_rabbitmq": ["one"]})],
      playbooks=_DB_CONVERGE)
def _shape(inputs):
    counts = {g: inputs.cluster_members(g) for g in [APP, PRIMARY] + SERVICE_GROUPS}
    wrong = [g for g, hosts in counts.items() if (len(hosts) < 1 if g == APP else len(hosts) != 1)]
    problems = []
    if wrong:
        have = ", ".join(f"{g}={len(counts[g])} ({' '.join(counts[g]) or 'none'})" for g in counts)
        problems.append(Problem("groups", {g: counts[g] for g in wrong}, f"cluster '{inputs.cluster}' needs at least one host in {APP} and "
                                f"exactly one in each of {PRIMARY}, {', '.join(SERVICE_GROUPS)} (it has: {have})",
                                "Put the hosts in the inventory's groups (README \"Inventory groups\"); a fleet names each "
                                "server's hosts with its own zulip_cluster."))
    active = [h for h in counts[APP] if (inputs.hosts.get(h) or {}).get("active")]
    if len(active) > 1:
        problems.append(Problem("zulip_app_frontend_active", active, f"cluster '{inputs.cluster}' marks {len(active)} app servers active",
                                "Set zulip_app_frontend_active on one app server of the cluster only."))
    return problems


@rule("cluster:replica-has-primary", [REPLICA], "a replica's cluster has a primary (a host in zulip_postgresql)",
      bad=[({}, {APP: ["one"], REPLICA: ["two"]})], groups=(REPLICA,))
def _replica_has_primary(inputs):
    if inputs.member(REPLICA) and not inputs.cluster_members(PRIMARY):
        return [Problem("groups", {REPLICA: [inputs.host]}, f"cluster '{inputs.cluster}' has a replica but no primary",
                        f"Put the cluster's primary database host in {PRIMARY}.")]
    return []


# ------------------------------------------------------------------ backups

_BACKUP_HOSTS = BACKUPS
_BACKUP_PLAYBOOKS = ("install", "restore", "backup")
for _name, _low, _high in (("zulip_postgresql_backups_retention_full", 1, 9999999),
                           ("zulip_postgresql_backups_retention_diff", 1, 9999999),
                           ("zulip_postgresql_backups_archive_timeout", 1, 3600),
                           ("zulip_postgresql_backups_tls_port", 1, 65535),
                           ("zulip_postgresql_backups_s3_port", 1, 65535),
                           ("zulip_postgresql_backups_check_full_warning_hours", 1, None),
                           ("zulip_postgresql_backups_check_full_critical_hours", 1, None),
                           ("zulip_postgresql_backups_check_diff_warning_hours", 1, None),
                           ("zulip_postgresql_backups_check_diff_critical_hours", 1, None),
                           ("zulip_postgresql_backups_check_archive_warning_seconds", 1, None),
                           ("zulip_postgresql_backups_check_archive_critical_seconds", 1, None),
                           ("zulip_postgresql_backups_check_drill_warning_days", 1, None)):
    _int_range(_name, _low, _high, _BACKUP_HOSTS, _BACKUP_PLAYBOOKS)
_pattern("zulip_postgresql_backups_posix_path", r"/[^\0\s]*", "an absolute path",
         "Set zulip_postgresql_backups_posix_path to a directory such as /var/lib/pgbackrest.", _BACKUP_HOSTS, _BACKUP_PLAYBOOKS,
         bad=["backups"])
_pattern("zulip_postgresql_backups_s3_path", r"/[^\0\s]*", "an absolute path inside the bucket",
         "Set zulip_postgresql_backups_s3_path to e.g. /zulip-backups.", _BACKUP_HOSTS, _BACKUP_PLAYBOOKS, bad=["zulip-backups"])
_pattern("zulip_postgresql_backups_s3_endpoint", r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?",
         "a host name or address, without scheme or port", "Set zulip_postgresql_backups_s3_endpoint to e.g. "
         "s3.eu-west-1.amazonaws.com (the port goes in zulip_postgresql_backups_s3_port).", _BACKUP_HOSTS, _BACKUP_PLAYBOOKS,
         bad=["https://s3.example.com"])
_pattern("zulip_postgresql_backups_s3_region", r"[a-z0-9-]{1,64}", "an S3 region such as us-east-1",
         "Set zulip_postgresql_backups_s3_region to the bucket's region.", _BACKUP_HOSTS, _BACKUP_PLAYBOOKS, bad=["US East"])
_pattern("zulip_postgresql_backups_s3_bucket", r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name",
         "Set zulip_postgresql_backups_s3_bucket to an existing bucket's name.", _BACKUP_HOSTS, _BACKUP_PLAYBOOKS,
         bad=["Zulip_Backups"], allow_empty=True)
_ONCALENDAR = r"[A-Za-z0-9*:.,/~ -]+"
for _name in ("zulip_postgresql_backups_full_schedule", "zulip_postgresql_backups_diff_schedule"):
    _pattern(_name, _ONCALENDAR, "a systemd OnCalendar expression, e.g. Sun *-*-* 02:00:00",
             f"Set {_name} to a calendar expression (systemd.time(7)); `systemd-analyze calendar` checks one.",
             _BACKUP_HOSTS, _BACKUP_PLAYBOOKS, bad=["every sunday; rm -rf /", ""])


for _name in ("zulip_postgresql_backups_files_keep_daily", "zulip_postgresql_backups_files_keep_weekly"):
    _int_range(_name, 0, 100000, (APP,), _BACKUP_PLAYBOOKS)
_pattern("zulip_postgresql_backups_files_schedule", _ONCALENDAR, "a systemd OnCalendar expression, e.g. *-*-* 03:00:00",
         "Set zulip_postgresql_backups_files_schedule to a calendar expression (systemd.time(7)).", (APP,), _BACKUP_PLAYBOOKS,
         bad=["daily;reboot"])
_names("zulip_postgresql_backups_files_paths", r"/[^\0\n]*", "an absolute path",
       "List absolute paths in zulip_postgresql_backups_files_paths.", (APP,), _BACKUP_PLAYBOOKS, "etc/zulip")


@rule("backups:files", ["zulip_postgresql_backups_files", "zulip_postgresql_backups_files_password"],
      "with backups on, file backups (the default) need a password of 20 characters or more and storage the app "
      "servers reach themselves (S3, or a posix path without a repository host)",
      bad=[{"zulip_postgresql_backups_storage": "posix", "zulip_postgresql_backups_files_password": "short"},
           ({"zulip_postgresql_backups_storage": "posix", "zulip_postgresql_backups_files_password": "x" * 24},
            {APP: ["one"], REPOSITORY: ["repo"]})],
      groups=(APP,), playbooks=_BACKUP_PLAYBOOKS)
def _backup_files(inputs):
    if inputs.get("zulip_postgresql_backups_storage") in (None, "none") or not inputs.get("zulip_postgresql_backups_files"):
        return []
    problems = []
    if len(inputs.get("zulip_postgresql_backups_files_password") or "") < 20:
        problems.append(Problem("zulip_postgresql_backups_files_password", "********", "file backups (/etc/zulip with the "
                                "secrets, the uploads) need a password of 20 characters or more",
                                "Set a long random one (openssl rand -base64 48) and keep it in a vault, or set "
                                "zulip_postgresql_backups_files: false."))
    if inputs.get("zulip_postgresql_backups_storage") == "posix" and inputs.cluster_members(REPOSITORY):
        problems.append(Problem("zulip_postgresql_backups_files", True, "app servers cannot reach a posix repository on "
                                f"the repository host {inputs.cluster_members(REPOSITORY)[0]}",
                                "Use S3 storage, or set zulip_postgresql_backups_files: false (back the files up another way)."))
    return problems


_pattern("zulip_postgresql_backups_restore_set", r"[0-9]{8}-[0-9]{6}F(_[0-9]{8}-[0-9]{6}[DI])?",
         "a pgBackRest backup label such as 20261206-233923F or 20261206-233923F_20261207-020000D",
         "Set zulip_restore_set to a label pgbackrest info lists, or leave it empty for the latest.", (PRIMARY,), ("restore",),
         bad=["latest!"], allow_empty=True, alias="zulip_restore_set")
_pattern("zulip_postgresql_backups_restore_files_from", r"[A-Za-z0-9][A-Za-z0-9._-]*",
         "an inventory host name (letters, digits, '.', '_', '-'): the app server whose file backups to restore",
         "Set zulip_restore_files_from to the inventory name of the app server the new one replaces.", (APP,),
         ("restore",), bad=["../zulip-app", "zulip app"], alias="zulip_restore_files_from")
_TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
_pattern("zulip_postgresql_backups_restore_target_time", _TIMESTAMP,
         "a timestamp with its offset, e.g. 2026-12-06 23:40:00+00:00", "Set zulip_restore_target_time with an explicit "
         "offset (+00:00 or Z for UTC), or leave it empty to restore to the end of the archived WAL.", (PRIMARY,),
         ("restore",), bad=["yesterday", "2026-12-06 23:40:00"], allow_empty=True, alias="zulip_restore_target_time")


@rule("restore:confirm", ["zulip_postgresql_backups_restore_confirm"],
      "empty, or the inventory name of the cluster's primary (the host whose database the restore replaces)",
      bad=[{"zulip_postgresql_backups_restore_confirm": "some-other-host"}], groups=(PRIMARY,), playbooks=("restore",))
def _restore_confirm(inputs):
    value = inputs.get("zulip_postgresql_backups_restore_confirm") or ""
    if value and value != inputs.host:
        return [Problem(inputs.named("zulip_postgresql_backups_restore_confirm", "zulip_restore_confirm"), value,
                        f"names another host than the primary {inputs.host}",
                        f"Set zulip_restore_confirm={inputs.host} to replace its database (it is moved aside, not deleted).")]
    return []


@rule("backups:storage", ["zulip_postgresql_backups_storage", "zulip_postgresql_backups_s3_bucket",
                          "zulip_postgresql_backups_s3_key", "zulip_postgresql_backups_s3_key_secret",
                          "zulip_postgresql_backups_s3_ca_file", "zulip_postgresql_backups_cipher_pass", REPOSITORY],
      "S3 storage names a bucket and both keys (or neither, for instance credentials) and an existing CA file if any; "
      "a repository host needs storage to keep; a cluster has at most one repository host, which holds no database",
      bad=[{"zulip_postgresql_backups_storage": "s3", "zulip_postgresql_backups_s3_bucket": ""},
           {"zulip_postgresql_backups_storage": "s3", "zulip_postgresql_backups_s3_bucket": "b",
            "zulip_postgresql_backups_s3_key": "k"},
           {"zulip_postgresql_backups_storage": "s3", "zulip_postgresql_backups_s3_bucket": "b",
            "zulip_postgresql_backups_s3_ca_file": "/nonexistent/ca.crt"},
           ({}, {REPOSITORY: ["one"], PRIMARY: ["one"]}),
           ({"zulip_postgresql_backups_storage": "posix"}, {REPOSITORY: ["r1", "r2"], PRIMARY: ["db"]}),
           ({"zulip_postgresql_backups_cipher_pass": "short"}, {PRIMARY: ["one"]})],
      groups=BACKUPS, playbooks=_BACKUP_PLAYBOOKS)
def _backup_storage(inputs):
    problems = []
    storage = inputs.get("zulip_postgresql_backups_storage")
    if storage == "s3":
        if not inputs.get("zulip_postgresql_backups_s3_bucket"):
            problems.append(Problem("zulip_postgresql_backups_s3_bucket", "", "S3 storage needs a bucket",
                                    "Set zulip_postgresql_backups_s3_bucket to an existing bucket's name."))
        if bool(inputs.get("zulip_postgresql_backups_s3_key")) != bool(inputs.get("zulip_postgresql_backups_s3_key_secret")):
            problems.append(Problem("zulip_postgresql_backups_s3_key", "********", "needs zulip_postgresql_backups_s3_key_secret "
                                    "with it (and the other way round)", "Set both keys, or neither."))
        ca = inputs.get("zulip_postgresql_backups_s3_ca_file")
        if ca and not os.path.isfile(ca):
            problems.append(Problem("zulip_postgresql_backups_s3_ca_file", ca, "no such file on the controller",
                                    "Name a PEM bundle of the CA that signed the storage's certificate, or unset it."))
    repositories = inputs.cluster_members(REPOSITORY)
    if inputs.member(REPOSITORY):
        if storage in (None, "none"):
            problems.append(Problem("zulip_postgresql_backups_storage", storage, f"{inputs.host} is in {REPOSITORY} but "
                                    "backups are off", "Set zulip_postgresql_backups_storage to posix or s3 for the cluster."))
        if inputs.member(PRIMARY) or inputs.member(REPLICA):
            problems.append(Problem("groups", [REPOSITORY, PRIMARY if inputs.member(PRIMARY) else REPLICA],
                                    f"{inputs.host} would keep the backups of its own database",
                                    f"Put another host in {REPOSITORY}: backups must survive the database host."))
    if len(repositories) > 1:
        problems.append(Problem("groups", {REPOSITORY: repositories}, f"cluster '{inputs.cluster}' has {len(repositories)} "
                                "repository hosts", f"Keep one host of the cluster in {REPOSITORY}."))
    cipher = inputs.get("zulip_postgresql_backups_cipher_pass") or ""
    if cipher and len(cipher) < 20:
        problems.append(Problem("zulip_postgresql_backups_cipher_pass", "********", "is shorter than 20 characters",
                                "Use a long random passphrase, e.g. openssl rand -base64 48, kept in a vault."))
    return problems


# ------------------------------------------------------------ EXTERNAL_HOST, release

@rule("app:external-host", ["zulip_external_host", "zulip_app_frontend_external_host"],
      "EXTERNAL_HOST is set and passes Zulip's system checks zulip.E001 and zulip.E002 (a hostname with a domain part, ASCII, "
      "labels of 1 to 63 letters, digits and hyphens, at most 255 characters), with an optional port from 1 to 65535",
      bad=[{"zulip_app_frontend_external_host": "zulipchat"}, {"zulip_app_frontend_external_host": ""}], groups=_APP,
      playbooks=_APP_CONVERGE)
def _external_host(inputs):
    from ansible_collections.zulip.server.plugins.filter.external_host import zulip_external_host_problems

    value = inputs.get("zulip_app_frontend_external_host")
    problems = zulip_external_host_problems(value)
    if problems:
        return [Problem(inputs.named("zulip_app_frontend_external_host", "zulip_external_host"), value, "; ".join(problems),
                        "Set zulip_external_host to the fully qualified name users reach the server by, e.g. chat.example.com "
                        "(and :port, a number from 1 to 65535, only if users connect on a non-standard port).")]
    return []


def _release_problems(inputs, role, git_ok):
    release = inputs.get(f"zulip_{role}_release") or ""
    sha256 = inputs.get(f"zulip_{role}_release_sha256") or ""
    release_var = inputs.named(f"zulip_{role}_release", "zulip_release")
    sha_var = inputs.named(f"zulip_{role}_release_sha256", "zulip_release_sha256")
    if not release:
        kinds = "a zulip-server-<version>.tar.gz path on the controller, an https URL with zulip_release_sha256" + (
            ", or a git ref (tag or branch)" if git_ok else "")
        return [Problem(release_var, release, "no release is named", f"Set zulip_release (-e zulip_release=...) to {kinds}.")]
    if sha256 and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        return [Problem(sha_var, sha256, "is not a sha256 (64 hex characters)",
                        "Set zulip_release_sha256 to the release's sha256sum, or \"\" for a local tarball.")]
    if re.match(r"https?://", release):
        if not sha256:
            return [Problem(release_var, release, "a URL needs its sha256",
                            "Set zulip_release_sha256 to the sha256 Zulip publishes for it (64 hex characters).")]
        return []
    if git_ok and not re.search(r"\.(tar(\.[A-Za-z0-9]+)?|tgz)$", release):
        return []  # a git ref (zulip_upgrade's _zulip_upgrade_kind), resolved on the host
    if not os.path.isfile(release):
        return [Problem(release_var, release, "no such file on the controller",
                        "Set zulip_release to the path of a zulip-server-<version>.tar.gz on the controller.")]
    if sha256:
        with open(release, "rb") as stream:  # the controller's Python (3.11+ for ansible-core 2.19)
            actual = hashlib.file_digest(stream, "sha256").hexdigest()
        if actual != sha256.lower():
            return [Problem(sha_var, sha256, f"the sha256 of {release} is {actual}, not this",
                            "Download the release again, or set zulip_release_sha256 to the sha256 Zulip publishes for it.")]
    return []


@rule("app:release", ["zulip_release", "zulip_release_sha256", "zulip_app_frontend_release", "zulip_app_frontend_release_sha256"],
      "zulip_release is a zulip-server-*.tar.gz that exists on the controller (with zulip_release_sha256, when set, its sha256) or an "
      "https URL with a sha256", bad=[{"zulip_app_frontend_release": "/nonexistent/zulip-server-10.1.tar.gz"},
                                      {"zulip_app_frontend_release": "https://example.org/zulip-server-10.1.tar.gz"}],
      groups=_APP, playbooks=_APP_CONVERGE)
def _install_release(inputs):
    return _release_problems(inputs, "app_frontend", False)


@rule("upgrade:release", ["zulip_release", "zulip_release_sha256", "zulip_upgrade_release", "zulip_upgrade_release_sha256"],
      "as for install, or a git ref: anything that is neither a URL nor a name ending in .tar, .tar.* or .tgz",
      bad=[{"zulip_upgrade_release": ""}],
      groups=_APP, playbooks=("upgrade",))
def _upgrade_release(inputs):
    return _release_problems(inputs, "upgrade", True)


@rule("upgrade:batches", ["zulip_upgrade_serial", "zulip_upgrade_max_fail_percentage"],
      "zulip_upgrade_serial is a positive number of hosts or a percentage from 1% to 100% (or a list of them); "
      "zulip_upgrade_max_fail_percentage a number from 0 to 100", bad=[{"zulip_upgrade_serial": 0}, {"zulip_upgrade_max_fail_percentage": 101}],
      groups=_APP, playbooks=_UPGRADES)
def _batches(inputs):
    problems = []
    serial = inputs.get("zulip_upgrade_serial")
    if serial is not None:
        items = serial if isinstance(serial, list) else [serial]

        def good(item):
            text = str(item).strip()
            match = re.fullmatch(r"([0-9]+)(%?)", text)
            return bool(match) and int(match.group(1)) >= 1 and (not match.group(2) or int(match.group(1)) <= 100)

        if not items or not all(good(i) for i in items):
            problems.append(Problem("zulip_upgrade_serial", serial, "must be a positive number of hosts or a percentage from 1% to 100%",
                                    "Set -e zulip_upgrade_serial=1 (one host at a time) or e.g. 25%."))
    fail = inputs.get("zulip_upgrade_max_fail_percentage")
    if fail is not None and not (re.fullmatch(r"[0-9]+", str(fail).strip()) and int(str(fail).strip()) <= 100):
        problems.append(Problem("zulip_upgrade_max_fail_percentage", fail, "must be a number from 0 to 100",
                                "Set -e zulip_upgrade_max_fail_percentage=0 (stop at the first failure) up to 100."))
    return problems


# ------------------------------------------------------------ app server options

@rule("app:uploads", ["zulip_app_frontend_local_uploads_dir", "zulip_app_frontend_s3_auth_uploads_bucket",
                      "zulip_app_frontend_s3_avatar_bucket"],
      "with zulip_app_frontend_local_uploads_dir empty (S3), both S3 buckets are set",
      bad=[{"zulip_app_frontend_local_uploads_dir": ""}], groups=_APP, playbooks=_APP_CONVERGE)
def _uploads(inputs):
    if inputs.get("zulip_app_frontend_local_uploads_dir", "/home/zulip/uploads"):
        return []
    missing = [n for n in ("zulip_app_frontend_s3_auth_uploads_bucket", "zulip_app_frontend_s3_avatar_bucket") if not inputs.get(n)]
    return [Problem(n, inputs.get(n, ""), "is empty, and uploads go to S3 (zulip_app_frontend_local_uploads_dir is empty)",
                    f"Set {n} to the bucket's name, or zulip_app_frontend_local_uploads_dir to a directory.") for n in missing]


@rule("app:bot", ["zulip_app_frontend_bot_short_name"],
      "a bot needs zulip_app_frontend_create_realm and zulip_app_frontend_owner_password_file",
      bad=[{"zulip_app_frontend_bot_short_name": "lab-bot"}], groups=_APP, playbooks=_APP_CONVERGE)
def _bot(inputs):
    if inputs.get("zulip_app_frontend_bot_short_name") and not (
            inputs.get("zulip_app_frontend_create_realm") and inputs.get("zulip_app_frontend_owner_password_file")):
        return [Problem("zulip_app_frontend_bot_short_name", inputs.get("zulip_app_frontend_bot_short_name"),
                        "a bot is created with the owner's password",
                        "Set zulip_app_frontend_create_realm and zulip_app_frontend_owner_password_file too, or the bot name to \"\".")]
    return []


@rule("app:authentication-backends", ["zulip_app_frontend_authentication_backends"], "at least one backend (Zulip's zulip.E001)",
      bad=[{"zulip_app_frontend_authentication_backends": []}], groups=_APP, playbooks=_APP_CONVERGE)
def _backends(inputs):
    if inputs.get("zulip_app_frontend_authentication_backends", ["x"]):
        return []
    return [Problem("zulip_app_frontend_authentication_backends", [], "Zulip needs at least one (zulip.E001)",
                    "List e.g. zproject.backends.EmailAuthBackend.")]


def _pem_pair(cert_var, key_var, inputs, what):
    """A certificate and its key on the controller: both or neither, readable, matching."""
    cert, key = inputs.get(cert_var) or "", inputs.get(key_var) or ""
    if not cert and not key:
        return []
    if not cert or not key:
        missing, other = (cert_var, key_var) if not cert else (key_var, cert_var)
        return [Problem(missing, inputs.get(missing) or "", f"is empty but {other} is set", f"Set {cert_var} and {key_var} together, or neither.")]
    problems = []
    for name, path in ((cert_var, cert), (key_var, key)):
        if not os.path.isfile(os.path.expanduser(path)):
            problems.append(Problem(name, path, "no such file on the controller", f"Set {name} to the path of the {what} on the controller."))
    if problems:
        return problems
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
    except ImportError:  # pragma: no cover - ansible-core needs cryptography on the controller
        return []
    try:
        with open(os.path.expanduser(cert), "rb") as stream:
            certificate = x509.load_pem_x509_certificate(stream.read())
    except ValueError:
        return [Problem(cert_var, cert, "is not a PEM certificate", f"Set {cert_var} to a PEM file whose first block is the certificate.")]
    try:
        with open(os.path.expanduser(key), "rb") as stream:
            private = serialization.load_pem_private_key(stream.read(), password=None)
    except (ValueError, TypeError):
        return [Problem(key_var, key, "is not an unencrypted PEM private key", f"Set {key_var} to the certificate's key, without a passphrase.")]
    encoding, fmt = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    if certificate.public_key().public_bytes(encoding, fmt) != private.public_key().public_bytes(encoding, fmt):
        return [Problem(key_var, key, f"is not the key of {cert_var}={_show(cert)}", f"Set {key_var} to the private key of that certificate.")]
    return []


@rule("app:tls-pair", ["zulip_app_frontend_tls_cert", "zulip_app_frontend_tls_key"],
      "set together; both files exist on the controller, the certificate is PEM and the key is its (unencrypted) private key",
      bad=[{"zulip_app_frontend_tls_cert": "/nonexistent.crt", "zulip_app_frontend_tls_key": "/nonexistent.key"},
           {"zulip_app_frontend_tls_cert": "/nonexistent.crt"}], groups=_APP, playbooks=_APP_CONVERGE)
def _app_tls(inputs):
    return _pem_pair("zulip_app_frontend_tls_cert", "zulip_app_frontend_tls_key", inputs, "certificate chain")


@rule("postgresql:own-ca", ["zulip_postgresql_tls_ca_cert", "zulip_postgresql_tls_ca_key"],
      "set together; both files exist on the controller and the key is the CA certificate's",
      bad=[{"zulip_postgresql_tls_ca_cert": "/nonexistent-ca.crt"}], groups=_PG_HOSTS, playbooks=_DB_CONVERGE)
def _own_ca(inputs):
    return _pem_pair("zulip_postgresql_tls_ca_cert", "zulip_postgresql_tls_ca_key", inputs, "CA certificate")


@rule("postgresql:tls-dir-per-cluster", ["zulip_postgresql_tls_dir"],
      "a directory the inventory sets is no other cluster's (each cluster's CA is made there under its own name), "
      "unless the cluster has its own CA",
      bad=[({"zulip_postgresql_tls_dir": "/srv/pki"}, {PRIMARY: ["db1", "db2"]},
            {"db1": {"cluster": "chat"}, "db2": {"cluster": "team", "tls_dir": "/srv/pki/"}})],
      groups=BACKUPS, playbooks=_DB_CONVERGE)
def _tls_dir_per_cluster(inputs):
    """Only a value the inventory sets: the default is per cluster (the
    preflight, before the topology is known, cannot tell it apart)."""
    mine = inputs.get("zulip_postgresql_tls_dir")
    if "zulip_postgresql_tls_dir" not in inputs.user_set or not mine or inputs.get("zulip_postgresql_tls_ca_cert"):
        return []
    def where(path):
        return os.path.normpath(os.path.expanduser(str(path)))

    others = sorted({inputs.cluster_of(h) for h, known in inputs.hosts.items()
                     if inputs.cluster_of(h) != inputs.cluster and known.get("tls_dir")
                     and where(known["tls_dir"]) == where(mine) and not known.get("own_ca")
                     and any(inputs.member(g, h) for g in BACKUPS)})
    if not others:
        return []
    return [Problem("zulip_postgresql_tls_dir", mine,
                    f"cluster '{inputs.cluster}' and cluster{'s' if len(others) > 1 else ''} "
                    f"{', '.join(repr(c) for c in others)} would keep their database CA there: each run would make the "
                    "CA again under the other cluster's name, and its hosts' certificates would stop matching it",
                    "Give each cluster a directory of its own (e.g. ending in the cluster's name, set per cluster), "
                    "or leave zulip_postgresql_tls_dir unset (~/.ansible/zulip.server/postgresql-tls/<cluster>).")]


@rule("postgresql:client-ca", ["zulip_postgresql_tls_ca_cert"], "on an app server, the CA certificate exists on the controller",
      bad=[{"zulip_postgresql_tls_ca_cert": "/nonexistent-ca.crt"}], groups=_APP, playbooks=_APP_CONVERGE)
def _client_ca(inputs):
    path = inputs.get("zulip_postgresql_tls_ca_cert")
    if path and not os.path.isfile(os.path.expanduser(path)):
        return [Problem("zulip_postgresql_tls_ca_cert", path, "no such file on the controller",
                        "Set zulip_postgresql_tls_ca_cert to your CA certificate on the controller, or leave it unset.")]
    return []


# ------------------------------------------------------- synchronous replication

_SYNC_TOKEN = re.compile(r'\s*(?:(?P<num>[0-9]+)(?![A-Za-z_$])|(?P<name>[A-Za-z_\x80-\uffff][A-Za-z0-9_$\x80-\uffff]*)'
                         r'|"(?P<quoted>(?:[^"]|"")*)"|(?P<punct>[(),*]))')


def parse_synchronous_standby_names(text):
    """PostgreSQL's grammar (src/backend/replication/syncrep_gram.y):
    ``name [, ...]``, ``[FIRST] num (name [, ...])`` or ``ANY num (name [, ...])``.
    Returns (method, num, names) or raises ValueError with the reason."""
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _SYNC_TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"unexpected {text[pos:].strip()[:20]!r}")
        pos = match.end()
        if match.group("num") is not None:
            tokens.append(("num", match.group("num")))
        elif match.group("name") is not None:
            word = match.group("name")
            tokens.append((word.upper(), word) if word.upper() in ("ANY", "FIRST") else ("name", word.lower()))
        elif match.group("quoted") is not None:
            tokens.append(("name", match.group("quoted").replace('""', '"')))
        elif match.group("punct") == "*":
            tokens.append(("name", "*"))
        else:
            tokens.append((match.group("punct"), match.group("punct")))

    def standby_list(items):
        names, expect_name = [], True
        for kind, value in items:
            if expect_name and kind in ("name", "num"):
                names.append(value)
            elif not expect_name and kind == ",":
                pass
            else:
                raise ValueError(f"unexpected {value!r} in the list of standby names")
            expect_name = not expect_name
        if expect_name:
            raise ValueError("the list of standby names is empty or ends with a comma")
        return names

    if not tokens:
        raise ValueError("it is empty")
    keyword = tokens[0][1] if tokens[0][0] in ("ANY", "FIRST") else None
    method = "quorum" if keyword and keyword.upper() == "ANY" else "priority"
    if keyword:
        tokens = tokens[1:]
    if len(tokens) > 1 and tokens[0][0] == "num" and tokens[1][0] == "(":
        if tokens[-1][0] != ")":
            raise ValueError("the ( is not closed")
        num = int(tokens[0][1])
        if num <= 0:
            raise ValueError(f"the number of synchronous standbys ({num}) must be greater than zero")
        return method, num, standby_list(tokens[2:-1])
    if keyword:
        raise ValueError(f"{keyword} must be followed by a number and a list of names in parentheses")
    return method, 1, standby_list(tokens)


def standby_name(host):
    """A replica's slot and application_name (zulip_postgresql vars/main.yml)."""
    return "zulip_" + re.sub(r"[^a-z0-9]", "_", host.lower())


@rule("postgresql:synchronous-standby-names", ["zulip_postgresql_synchronous_standby_names"],
      "empty, or PostgreSQL's syntax (name [, ...], [FIRST] N (names), ANY N (names)); the names are * or the replicas' "
      "standby names (zulip_<host>), and N is at most the number of names",
      bad=[{"zulip_postgresql_synchronous_standby_names": "ANY 5 (zzz"},
           {"zulip_postgresql_synchronous_standby_names": "FIRST 1 (zulip_nosuchhost)"},
           {"zulip_postgresql_synchronous_standby_names": "ANY 2 (*)"}],
      groups=_PG_HOSTS, playbooks=_DB_CONVERGE)
def _synchronous_standby_names(inputs):
    name = "zulip_postgresql_synchronous_standby_names"
    value = inputs.get(name) or ""
    if not value.strip():
        return []
    fix = "Set it to e.g. ANY 1 (*) (any one replica) or FIRST 1 (zulip_db2), or \"\" for asynchronous replication."
    try:
        _, num, names = parse_synchronous_standby_names(value)
    except ValueError as error:
        return [Problem(name, value, f"PostgreSQL would refuse it: {error}", fix)]
    # After a failover the primary may be any of them, and the others its standbys.
    database = sorted(set(inputs.cluster_members(PRIMARY)) | set(inputs.cluster_members(REPLICA)))
    known = {standby_name(h) for h in database}
    unknown = [n for n in names if n != "*" and n not in known]
    if unknown:
        return [Problem(name, value, f"{', '.join(unknown)} is no database host's standby name in cluster '{inputs.cluster}' "
                        f"(they are: {', '.join(sorted(known)) or 'none'}): commits would wait for it forever", fix)]
    possible = len(database) - 1 if "*" in names else len(names)
    if num > possible:
        return [Problem(name, value, f"it waits for {num} standbys but only {possible} can answer: commits would wait forever", fix)]
    return []


# ------------------------------------------------------------------ failover.yml

@rule("failover:mode", ["zulip_failover_mode"], "set: switchover, failover or app",
      bad=[{"zulip_failover_mode": None}], playbooks=_FAILOVERS)
def _failover_mode(inputs):
    if inputs.get("zulip_failover_mode"):
        return []  # its choices: the argument spec
    return [Problem("zulip_failover_mode", inputs.get("zulip_failover_mode"), "is not set",
                    "Set -e zulip_failover_mode=switchover (planned, nothing lost), failover (the primary is dead; with "
                    "-e zulip_failover_confirm=<old primary>) or app (move the active app server).")]


@rule("failover:hosts", ["zulip_failover_target", "zulip_failover_confirm"],
      "zulip_failover_target is a database host (switchover, failover) or an app server (app) of the inventory; "
      "zulip_failover_confirm is a database host", bad=[{"zulip_failover_target": "nosuchhost"},
                                                         {"zulip_failover_confirm": "nosuchhost"}], playbooks=_FAILOVERS)
def _failover_hosts(inputs):
    problems = []
    database = set(inputs.groups.get(PRIMARY, [])) | set(inputs.groups.get(REPLICA, []))
    app_mode = inputs.playbook == "failover-app"
    target = inputs.get("zulip_failover_target") or ""
    pool = set(inputs.groups.get(APP, [])) if app_mode else database
    if target and target not in pool:
        problems.append(Problem("zulip_failover_target", target, f"is not {'an app server' if app_mode else 'a database host'} "
                                f"of the inventory ({', '.join(sorted(pool)) or 'none'})", "Name the host to promote or make active."))
    confirm = inputs.get("zulip_failover_confirm") or ""
    if confirm and confirm not in database:
        problems.append(Problem("zulip_failover_confirm", confirm, "is not a database host of the inventory",
                                "Name the old primary: -e zulip_failover_confirm=<its inventory name>."))
    return problems


@rule("rejoin:hosts", ["zulip_failover_rejoin_hosts"], "every item is a database host of the inventory",
      bad=[{"zulip_failover_rejoin_hosts": ["nosuchhost"]}], playbooks=("rejoin",))
def _rejoin_hosts(inputs):
    database = set(inputs.groups.get(PRIMARY, [])) | set(inputs.groups.get(REPLICA, []))
    rejoin = inputs.get("zulip_failover_rejoin_hosts") or []
    wrong = [h for h in rejoin if h not in database]
    if wrong:
        return [Problem("zulip_failover_rejoin_hosts", rejoin, f"{', '.join(wrong)} is no database host of the inventory",
                        "List fenced former primaries, or leave it empty for all of them.")]
    return []
