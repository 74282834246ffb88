from __future__ import annotations

import re
import uuid

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.zulip.server.plugins.filter import secrets as secrets_filters
from ansible_collections.zulip.server.plugins.filter.secrets import zulip_generate_secrets, zulip_merge_secrets

SECRET_KEY_RE = re.compile(r"^[a-z0-9!@#$%^&*(\-_=+)]{50}$")
ALNUM64_RE = re.compile(r"^[A-Za-z0-9]{64}$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")

ALL_NAMES = [
    "secret_key",
    "camo_key",
    "zulip_org_key",
    "zulip_org_id",
    "avatar_salt",
    "rabbitmq_password",
    "shared_secret",
    "memcached_password",
    "redis_password",
    "postgres_password",
    "postgresql_replication_password",
    "some_unknown_name",
]


def test_filter_module_lists_filters():
    assert sorted(secrets_filters.FilterModule().filters()) == ["zulip_generate_secrets", "zulip_merge_secrets"]


# zulip_merge_secrets


def test_merge_agreeing_hosts():
    items = [
        {"host": "a", "secrets": {"x": "1", "y": "2"}},
        {"host": "b", "secrets": {"x": "1", "z": "3"}},
        {"host": "c", "secrets": {}},
        {"host": "d", "secrets": None},
    ]
    assert zulip_merge_secrets(items) == {"x": "1", "y": "2", "z": "3"}


def test_merge_empty_list():
    assert zulip_merge_secrets([]) == {}


def test_merge_conflict_names_secret_and_hosts_not_values():
    items = [
        {"host": "app1", "secrets": {"shared_secret": "VALUE-ONE", "avatar_salt": "SAME-VALUE"}},
        {"host": "app2", "secrets": {"shared_secret": "VALUE-TWO", "avatar_salt": "SAME-VALUE"}},
        {"host": "db1", "secrets": {"shared_secret": "VALUE-ONE"}},
    ]
    with pytest.raises(AnsibleFilterError) as excinfo:
        zulip_merge_secrets(items)
    message = str(excinfo.value)
    assert "shared_secret" in message
    assert "avatar_salt" not in message
    assert "[app1, db1] vs [app2]" in message
    assert "VALUE" not in message
    assert "SAME-VALUE" not in message


def test_merge_reports_every_conflict():
    items = [
        {"host": "a", "secrets": {"p": "1", "q": "1"}},
        {"host": "b", "secrets": {"p": "2", "q": "2"}},
    ]
    with pytest.raises(AnsibleFilterError, match=r"'p'.*'q'"):
        zulip_merge_secrets(items)


@pytest.mark.parametrize(
    "items",
    [
        "not a list",
        {"host": "a", "secrets": {}},
        ["not a dict"],
        [{"secrets": {}}],
        [{"host": "a", "secrets": ["x"]}],
    ],
)
def test_merge_bad_input(items):
    with pytest.raises(AnsibleFilterError, match="zulip_merge_secrets"):
        zulip_merge_secrets(items)


# zulip_generate_secrets


def test_generate_all_formats():
    result = zulip_generate_secrets({}, ALL_NAMES)
    assert sorted(result) == sorted(ALL_NAMES)
    assert SECRET_KEY_RE.match(result["secret_key"])
    assert ALNUM64_RE.match(result["camo_key"])
    assert ALNUM64_RE.match(result["zulip_org_key"])
    assert str(uuid.UUID(result["zulip_org_id"], version=4)) == result["zulip_org_id"]
    for name in ALL_NAMES[4:]:
        assert HEX64_RE.match(result[name]), name


def test_generate_keeps_existing_and_does_not_mutate_input():
    existing = {"secret_key": "keep-me", "other": "x"}
    result = zulip_generate_secrets(existing, ["secret_key", "camo_key"])
    assert result["secret_key"] == "keep-me"
    assert result["other"] == "x"
    assert ALNUM64_RE.match(result["camo_key"])
    assert existing == {"secret_key": "keep-me", "other": "x"}
    assert result is not existing


def test_generate_nothing_missing_returns_copy():
    existing = {"a": "1"}
    result = zulip_generate_secrets(existing, ["a"])
    assert result == existing
    assert result is not existing


def test_generate_values_differ_between_calls():
    first = zulip_generate_secrets({}, ALL_NAMES)
    second = zulip_generate_secrets({}, ALL_NAMES)
    assert all(first[name] != second[name] for name in ALL_NAMES)


def test_generate_secret_key_uses_whole_alphabet():
    seen = set()
    for _ in range(50):
        seen.update(zulip_generate_secrets({}, ["secret_key"])["secret_key"])
    assert seen <= set("abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)")
    assert seen & set("!@#$%^&*(-_=+)")


def test_generate_none_existing_and_string_name():
    result = zulip_generate_secrets(None, "shared_secret")
    assert list(result) == ["shared_secret"]


@pytest.mark.parametrize("names", [["Bad"], ["a b"], ["x=y"], [""], [".hidden"], [3], 3, None])
def test_generate_bad_names(names):
    with pytest.raises(AnsibleFilterError, match="zulip_generate_secrets"):
        zulip_generate_secrets({}, names)


def test_generate_bad_existing():
    with pytest.raises(AnsibleFilterError, match="mapping"):
        zulip_generate_secrets(["a"], ["b"])
