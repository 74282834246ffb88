# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Filters for Zulip's secrets (spec section 4).

Error messages name secrets and hosts, never values. The documentation of
each filter lives next to this file in ``<filter name>.yml``.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# Names the zulip_secrets module accepts as well: safe as INI keys and already
# in the lower case Python's configparser (which Zulip reads them with) uses.
SECRET_NAME_RE = re.compile(r"^[a-z0-9_][a-z0-9_.-]*$")

_SECRET_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
_ALNUM_CHARS = string.ascii_letters + string.digits


def _random_string(length, alphabet):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _generate_secret_key():
    return _random_string(50, _SECRET_KEY_CHARS)


def _generate_alnum_64():
    return _random_string(64, _ALNUM_CHARS)


def _generate_uuid():
    return str(uuid.uuid4())


def _generate_token_hex():
    return secrets.token_hex(32)


# Generators as in Zulip's generate_secrets; any other name gets token_hex(32).
_GENERATORS = {
    "secret_key": _generate_secret_key,
    "camo_key": _generate_alnum_64,
    "zulip_org_key": _generate_alnum_64,
    "zulip_org_id": _generate_uuid,
}


def generate_secret(name):
    """Return a new random value for the secret ``name``."""
    return _GENERATORS.get(name, _generate_token_hex)()


def zulip_merge_secrets(items):
    """Merge the secrets read on several hosts into one dict.

    ``items`` is a list of ``{"host": name, "secrets": {name: value}}``. Two
    hosts holding different values for one secret is an error.
    """
    if not isinstance(items, (list, tuple)):
        raise AnsibleFilterError(
            f"zulip_merge_secrets: input must be a list of {{host, secrets}} items, got {type(items).__name__}"
        )
    merged = {}
    holders = {}  # secret name -> {value: [hosts]}, to report conflicts
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or "host" not in item:
            raise AnsibleFilterError(
                f"zulip_merge_secrets: item {index} must be a mapping with the keys 'host' and 'secrets'"
            )
        host = str(item["host"])
        host_secrets = item.get("secrets") or {}
        if not isinstance(host_secrets, Mapping):
            raise AnsibleFilterError(
                f"zulip_merge_secrets: 'secrets' of host {host} must be a mapping of secret names to values,"
                f" got {type(host_secrets).__name__}"
            )
        for name, value in host_secrets.items():
            name = str(name)
            # Compare as text: the secrets file holds text, and values may be unhashable.
            holders.setdefault(name, {}).setdefault(str(value), []).append(host)
            merged.setdefault(name, value)
    conflicts = []
    for name in sorted(holders):
        groups = list(holders[name].values())
        if len(groups) > 1:
            described = " vs ".join("[" + ", ".join(hosts) + "]" for hosts in groups)
            conflicts.append(f"'{name}' (hosts grouped by value: {described})")
    if conflicts:
        raise AnsibleFilterError(
            "zulip_merge_secrets: hosts disagree on the value of secret "
            + "; ".join(conflicts)
            + ". Existing secrets are never changed automatically: make the secrets files agree"
            " (Zulip needs the same secrets on every host of a server), then run again."
        )
    return merged


def zulip_generate_secrets(existing, names):
    """Return ``existing`` plus a new value for each of ``names`` it lacks."""
    if existing is None:
        existing = {}
    if not isinstance(existing, Mapping):
        raise AnsibleFilterError(
            f"zulip_generate_secrets: existing secrets must be a mapping, got {type(existing).__name__}"
        )
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)):
        raise AnsibleFilterError(
            f"zulip_generate_secrets: names must be a list of secret names, got {type(names).__name__}"
        )
    result = dict(existing)
    for name in names:
        if not isinstance(name, str) or not SECRET_NAME_RE.match(name):
            raise AnsibleFilterError(
                f"zulip_generate_secrets: invalid secret name {name!r}"
                " (lower-case letters, digits, '_', '.' and '-'; not starting with '.' or '-')"
            )
        if name not in result:
            result[name] = generate_secret(name)
    return result


class FilterModule:
    """Zulip secrets filters."""

    def filters(self):
        return {
            "zulip_merge_secrets": zulip_merge_secrets,
            "zulip_generate_secrets": zulip_generate_secrets,
        }
