"""The preflight's rules (plugins/module_utils/preflight.py): each refuses its
bad inputs naming the variable, the role defaults pass them all, every input of
every role is covered, and docs/preflight.md lists them."""

from __future__ import annotations

import copy
import datetime
import functools
import importlib.util
from pathlib import Path

import pytest
import yaml

from ansible_collections.zulip.server.plugins.module_utils import preflight

ROOT = Path(__file__).resolve().parents[4]
STANDALONE = {g: ["one"] for g in preflight.GROUPS if g not in (preflight.REPLICA, preflight.REPOSITORY)}
SPLIT = {preflight.APP: ["app"], preflight.PRIMARY: ["db1"], preflight.REPLICA: ["db2"],
         "zulip_memcached": ["cache"], "zulip_redis": ["cache"], "zulip_rabbitmq": ["cache"]}


@functools.cache
def spec_options():
    """(role, entry point, option, spec) of every argument spec."""
    found = []
    for path in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        for entry, spec in yaml.safe_load(path.read_text())["argument_specs"].items():
            for name, option in (spec.get("options") or {}).items():
                found.append((path.parts[-3], entry, name, option))
    return tuple(found)


@functools.cache
def _defaults():
    values = {}
    for role, _, name, option in spec_options():
        defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
        value = defaults.get(name, option.get("default"))
        if not (isinstance(value, str) and "{{" in value):
            values[name] = value
    return values


def baseline(tmp_path):
    """What the roles read with the defaults and a minimal valid inventory."""
    values = copy.deepcopy(_defaults())
    release = tmp_path / "zulip-server-10.1.tar.gz"
    release.write_bytes(b"release bytes")
    values.update({
        "zulip_base_cluster": "zulip",
        "zulip_app_frontend_external_host": "chat.example.com",
        "zulip_app_frontend_admin_email": "admin@example.com",
        "zulip_app_frontend_release": str(release),
        "zulip_app_frontend_release_sha256": "",
        "zulip_upgrade_release": str(release),
        "zulip_upgrade_release_sha256": "",
        "zulip_failover_mode": "switchover",
        "zulip_service_address": "10.0.0.5",
    })
    return values


def inputs_for(values, groups, playbook, host=None, hosts=None, user_set=()):
    """hosts: what the preflight knows of other hosts, by name (their cluster is "zulip" unless given)."""
    known = {h: {"cluster": "zulip", **(hosts or {}).get(h, {})} for g in groups.values() for h in g}
    host = host or next(iter(groups.get(preflight.APP) or [h for g in groups.values() for h in g]))
    return preflight.Inputs(host=host, playbook=playbook, values=values, groups=groups, hosts=known,
                            user_set=frozenset(user_set))


def cases():
    return [pytest.param(r, bad, id=f"{r.rule_id}#{number}") for r in preflight.RULES for number, bad in enumerate(r.bad)]


def hosts_of(r, groups):
    return [h for g in r.groups for h in groups.get(g, [])]


@pytest.mark.parametrize(("r", "bad"), cases())
def test_each_rule_refuses_its_bad_inputs_naming_the_variable(tmp_path, r, bad):
    # {values} on a standalone inventory, ({values}, {groups}), or ({values},
    # {groups}, {host: what is known of it}) with the values set by the inventory.
    values, groups, hosts = (bad, STANDALONE, None) if isinstance(bad, dict) else (*bad, None)[:3]
    base = baseline(tmp_path)
    base.update(values)
    # The rule fires on one of its hosts, in each playbook it belongs to.
    for playbook in r.playbooks:
        problems = []
        for host in hosts_of(r, groups) or [h for g in groups.values() for h in g]:
            inputs = inputs_for(base, groups, playbook, host, hosts, user_set=values if hosts else ())
            if r.applies(inputs):
                problems.extend(r.check(inputs))
        assert problems, (r.rule_id, playbook, values)
        for problem in problems:
            named = problem.variable in r.variables or problem.variable in ("zulip_external_host", "zulip_release",
                                                                           "zulip_release_sha256", "zulip_admin_email",
                                                                           "zulip_cluster", "groups", "zulip_restore_set",
                                                                           "zulip_restore_target_time", "zulip_restore_confirm",
                                                                           "zulip_restore_files_from")
            assert named, (r.rule_id, problem.variable)
            assert str(problem).startswith(f"{problem.variable}="), str(problem)
            assert problem.fix, str(problem)


@pytest.mark.parametrize("playbook", preflight.PLAYBOOKS)
@pytest.mark.parametrize("groups", [STANDALONE, SPLIT], ids=["standalone", "split"])
def test_the_role_defaults_pass_every_rule(tmp_path, playbook, groups):
    for host in {h for g in groups.values() for h in g}:
        problems = preflight.check(inputs_for(baseline(tmp_path), groups, playbook, host))
        assert not problems, [str(p) for p in problems]


# Inputs whose type and choices (the argument spec) are all there is to check:
# free text Zulip takes as it is, booleans, choices, and the controller-side
# directory the roles create.
FREE = {
    "zulip_app_frontend_realm_name",  # any organization name
    "zulip_app_frontend_s3_auth_uploads_bucket", "zulip_app_frontend_s3_avatar_bucket", "zulip_app_frontend_s3_region",
    "zulip_app_frontend_s3_key", "zulip_app_frontend_s3_secret_key",  # S3's own formats, checked by S3
    "zulip_app_frontend_settings_extra",  # Python, checked by the release's manage.py checkconfig
    "zulip_postgresql_tls_dir", "zulip_postgresql_backups_tls_dir",  # created on the controller
    "zulip_preflight_supported_debian",  # the preflight's own list
}


def test_every_input_of_every_role_is_checked():
    covered = {v for r in preflight.RULES for v in r.variables}
    unchecked = []
    for role, entry, name, option in spec_options():
        only_type = option.get("type") == "bool" or "choices" in option
        if not (only_type or name in covered or name in FREE):
            unchecked.append(f"{role}:{entry} {name}")
    assert not unchecked, "options with no rule: add one to module_utils/preflight.py, or to FREE with a reason"


def test_every_rule_has_a_bad_example_and_a_unique_id():
    ids = [r.rule_id for r in preflight.RULES]
    assert len(ids) == len(set(ids))
    assert all(r.bad for r in preflight.RULES)


def test_docs_list_every_rule():
    spec = importlib.util.spec_from_file_location("preflight_doc", ROOT / "lab" / "preflight-doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "preflight.md").read_text() == module.render(), \
        "docs/preflight.md is stale: source lab/env.sh && python lab/preflight-doc.py > docs/preflight.md"


@pytest.mark.parametrize(("text", "parsed"), [
    ("*", ("priority", 1, ["*"])),
    ("zulip_db2", ("priority", 1, ["zulip_db2"])),
    ("zulip_db2, zulip_db3", ("priority", 1, ["zulip_db2", "zulip_db3"])),
    ("FIRST 1 (zulip_db2, zulip_db3)", ("priority", 1, ["zulip_db2", "zulip_db3"])),
    ("2 (a, b)", ("priority", 2, ["a", "b"])),
    ("any 1 (*)", ("quorum", 1, ["*"])),
    ('ANY 1 ("Zulip DB", x)', ("quorum", 1, ["Zulip DB", "x"])),
    ("Zulip_DB2", ("priority", 1, ["zulip_db2"])),
])
def test_synchronous_standby_names_grammar_accepts(text, parsed):
    assert preflight.parse_synchronous_standby_names(text) == parsed


@pytest.mark.parametrize("text", ["ANY 5 (zzz", "ANY (a)", "ANY 1 a", "FIRST 1", "0 (a)", "a,", "a b", "(a)", "1 (a,)",
                                  "a; DROP", "'a'", "1abc (a)"])
def test_synchronous_standby_names_grammar_refuses(text):
    with pytest.raises(ValueError):
        preflight.parse_synchronous_standby_names(text)


FLEET = {preflight.PRIMARY: ["db1", "db2"], preflight.REPOSITORY: ["backup2"]}


@pytest.mark.parametrize(("mine", "others", "refused"), [
    ("/srv/pki", {"db2": {"cluster": "team", "tls_dir": "/srv/pki"}}, True),
    # the other cluster's repository host reads the same CA
    ("~/pki", {"backup2": {"cluster": "team", "tls_dir": "~/pki/"}}, True),
    ("/srv/pki/chat", {"db2": {"cluster": "team", "tls_dir": "/srv/pki/team"}}, False),
    # the other cluster brings its own CA: nothing is made there for it
    ("/srv/pki", {"db2": {"cluster": "team", "tls_dir": "/srv/pki", "own_ca": True}}, False),
    # the same cluster's hosts share it, as they must
    ("/srv/pki", {"db2": {"cluster": "chat", "tls_dir": "/srv/pki"}}, False),
    # the default directory (not set by the inventory) is per cluster
    (None, {"db2": {"cluster": "team"}}, False),
], ids=["shared", "shared-with-a-repository", "per-cluster", "other-has-own-ca", "same-cluster", "default"])
def test_each_cluster_keeps_its_database_ca_apart(tmp_path, mine, others, refused):
    values = baseline(tmp_path)
    user_set = ()
    if mine:
        values["zulip_postgresql_tls_dir"] = mine
        user_set = ("zulip_postgresql_tls_dir",)
    hosts = {"db1": {"cluster": "chat"}, **others}
    problems = [p for p in preflight.check(inputs_for(values, FLEET, "install", "db1", hosts, user_set))
                if p.variable == "zulip_postgresql_tls_dir"]
    assert bool(problems) == refused, [str(p) for p in problems]
    if refused:
        assert "cluster 'chat' and cluster 'team' would keep their database CA there" in str(problems[0])


def test_synchronous_standby_names_name_a_replica(tmp_path):
    values = baseline(tmp_path)
    for good in ["FIRST 1 (zulip_db2)", "ANY 1 (*)", "zulip_db2"]:
        values["zulip_postgresql_synchronous_standby_names"] = good
        assert not preflight.check(inputs_for(values, SPLIT, "install", "db1")), good
    values["zulip_postgresql_synchronous_standby_names"] = "FIRST 1 (zulip_db3)"
    [problem] = preflight.check(inputs_for(values, SPLIT, "install", "db1"))
    assert "zulip_db3 is no database host's standby name" in str(problem) and "zulip_db2" in str(problem)


@pytest.mark.parametrize(("name", "value", "ok"), [
    ("zulip_restart_cron_hour", "6", True), ("zulip_restart_cron_hour", "*/6", True), ("zulip_restart_cron_hour", "1-5,7", True),
    ("zulip_restart_cron_hour", "24", False), ("zulip_restart_cron_hour", "5-1", False), ("zulip_restart_cron_hour", "*/0", False),
    ("zulip_restart_cron_weekday", "sun", True), ("zulip_restart_cron_weekday", "mon-fri", True),
    ("zulip_restart_cron_weekday", "7", True), ("zulip_restart_cron_weekday", "8", False),
    ("zulip_restart_cron_minute", "59", True), ("zulip_restart_cron_minute", "60", False), ("zulip_restart_cron_minute", "", False),
])
def test_cron_fields(tmp_path, name, value, ok):
    values = baseline(tmp_path)
    values[name] = value
    problems = preflight.check(inputs_for(values, STANDALONE, "install"))
    assert (not problems) == ok, [str(p) for p in problems]


def _pair(tmp_path, name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chat.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_a_certificate_and_its_key_pass_and_a_mismatched_key_is_named(tmp_path):
    cert, key = _pair(tmp_path, "a")
    _, other_key = _pair(tmp_path, "b")
    values = baseline(tmp_path)
    values.update(zulip_app_frontend_tls_cert=cert, zulip_app_frontend_tls_key=key)
    assert not preflight.check(inputs_for(values, STANDALONE, "install"))
    values["zulip_app_frontend_tls_key"] = other_key
    [problem] = preflight.check(inputs_for(values, STANDALONE, "install"))
    assert problem.variable == "zulip_app_frontend_tls_key" and "is not the key of zulip_app_frontend_tls_cert" in str(problem)
    values["zulip_app_frontend_tls_key"] = cert  # a certificate where the key should be
    [problem] = preflight.check(inputs_for(values, STANDALONE, "install"))
    assert "is not an unencrypted PEM private key" in str(problem)


def test_a_host_in_both_database_groups_is_named(tmp_path):
    groups = dict(SPLIT, **{preflight.REPLICA: ["db1", "db2"]})
    problems = preflight.check(inputs_for(baseline(tmp_path), groups, "install", "db1"))
    assert [str(p) for p in problems] == [
        'groups=["zulip_postgresql", "zulip_postgresql_replica"]: db1 is in both. Keep db1 in zulip_postgresql if it is the '
        "primary, or in zulip_postgresql_replica if it is a hot spare, not in both."]


def test_a_role_variable_is_named_when_it_was_set(tmp_path):
    values = baseline(tmp_path)
    values["zulip_app_frontend_external_host"] = "zulipchat"
    inputs = inputs_for(values, STANDALONE, "install")
    assert preflight.check(inputs)[0].variable == "zulip_external_host"
    inputs.user_set = frozenset({"zulip_app_frontend_external_host"})
    assert preflight.check(inputs)[0].variable == "zulip_app_frontend_external_host"


def test_a_git_ref_is_a_release_for_upgrade_only(tmp_path):
    values = baseline(tmp_path)
    for ref in ["release/10.x", "main"]:
        values.update(zulip_upgrade_release=ref)
        assert not preflight.check(inputs_for(values, STANDALONE, "upgrade")), ref
    values.update(zulip_upgrade_release=str(tmp_path / "zulip-server-10.9.tar.xz"))
    [problem] = preflight.check(inputs_for(values, STANDALONE, "upgrade"))
    assert "no such file on the controller" in str(problem)
    values.update(zulip_app_frontend_release="10.x")
    [problem] = preflight.check(inputs_for(values, STANDALONE, "install"))
    assert str(problem).startswith('zulip_release="10.x": no such file on the controller')
