# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Zulip's memory-based sizing formulas, as Jinja2 filters.

Every formula takes ``M``, the host's total memory in MiB (what Zulip's
Puppet calls ``total_memory_mb``; the base role publishes it as
``zulip_total_memory_mb``), and uses integer arithmetic like Zulip does.
The documentation of each filter lives next to this file in
``<filter name>.yml``.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

# Zulip's config booleans: the same word list as zulip_tools.get_config and
# Puppet's zulipconf() (spec section 3).
_TRUE_WORDS = frozenset(("1", "y", "t", "true", "yes", "enable", "enabled"))

_INT_RE = re.compile(r"^\s*\+?\d+\s*$")


def _memory_mb(value, filter_name):
    """Return ``value`` as a positive int, or raise AnsibleFilterError."""
    if isinstance(value, bool):
        raise AnsibleFilterError(
            f"{filter_name}: total memory must be a positive integer number of MiB, got the boolean {value!r}"
        )
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INT_RE.match(value):
        number = int(value)
    else:
        raise AnsibleFilterError(
            f"{filter_name}: total memory must be a positive integer number of MiB, got {value!r}"
        )
    if number <= 0:
        raise AnsibleFilterError(
            f"{filter_name}: total memory must be a positive integer number of MiB, got {value!r}"
        )
    return number


def zulip_postgresql_tuning(total_memory_mb):
    """PostgreSQL memory settings in MB (spec section 5.3), each at least 1."""
    mem = _memory_mb(total_memory_mb, "zulip_postgresql_tuning")
    # PostgreSQL refuses 0 for these settings (work_mem's minimum is 64kB),
    # so hosts below 512 MiB get 1 MB instead of Zulip's 0.
    return {
        "shared_buffers_mb": max(1, mem // 8),
        "effective_cache_size_mb": max(1, mem * 10 // 32),
        "work_mem_mb": max(1, mem // 512),
        "maintenance_work_mem_mb": max(1, mem // 32),
    }


def zulip_memcached_memory(total_memory_mb):
    """memcached ``-m`` in MB: an eighth of the memory (spec section 6.1)."""
    return _memory_mb(total_memory_mb, "zulip_memcached_memory") // 8


def zulip_uwsgi_processes(total_memory_mb):
    """Number of uWSGI processes (spec section 7.3)."""
    mem = _memory_mb(total_memory_mb, "zulip_uwsgi_processes")
    if mem > 24000:
        return 16
    if mem > 12000:
        return 8
    if mem > 6000:
        return 6
    if mem > 3000:
        return 4
    return 3


def zulip_queue_workers_multiprocess(total_memory_mb):
    """Whether each queue gets its own worker process (spec section 7.4)."""
    return _memory_mb(total_memory_mb, "zulip_queue_workers_multiprocess") > 3800


def zulip_truthy(value):
    """Zulip's reading of a boolean config value (spec section 3)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE_WORDS


class FilterModule:
    """Zulip sizing filters."""

    def filters(self):
        return {
            "zulip_postgresql_tuning": zulip_postgresql_tuning,
            "zulip_memcached_memory": zulip_memcached_memory,
            "zulip_uwsgi_processes": zulip_uwsgi_processes,
            "zulip_queue_workers_multiprocess": zulip_queue_workers_multiprocess,
            "zulip_truthy": zulip_truthy,
        }
