from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.zulip.server.plugins.filter import sizing
from ansible_collections.zulip.server.plugins.filter.sizing import (
    zulip_memcached_memory,
    zulip_postgresql_tuning,
    zulip_queue_workers_multiprocess,
    zulip_truthy,
    zulip_uwsgi_processes,
)

MEMORY_FILTERS = [
    zulip_postgresql_tuning,
    zulip_memcached_memory,
    zulip_uwsgi_processes,
    zulip_queue_workers_multiprocess,
]


def test_filter_module_lists_all_filters():
    assert sorted(sizing.FilterModule().filters()) == [
        "zulip_memcached_memory",
        "zulip_postgresql_tuning",
        "zulip_queue_workers_multiprocess",
        "zulip_truthy",
        "zulip_uwsgi_processes",
    ]


@pytest.mark.parametrize(
    "mem, expected",
    [
        (4096, (512, 1280, 8, 128)),
        (8192, (1024, 2560, 16, 256)),
        (16384, (2048, 5120, 32, 512)),
        (1000, (125, 312, 1, 31)),  # integer division: 10000 // 32 = 312
        (511, (63, 159, 1, 15)),  # work_mem would be 0: clamped to 1
        (512, (64, 160, 1, 16)),
        (1023, (127, 319, 1, 31)),
        (1024, (128, 320, 2, 32)),
        (1, (1, 1, 1, 1)),  # everything clamped
        (31, (3, 9, 1, 1)),
    ],
)
def test_postgresql_tuning(mem, expected):
    assert zulip_postgresql_tuning(mem) == dict(
        zip(("shared_buffers_mb", "effective_cache_size_mb", "work_mem_mb", "maintenance_work_mem_mb"), expected)
    )


def test_postgresql_tuning_values_are_ints():
    assert all(type(v) is int for v in zulip_postgresql_tuning(4096).values())


@pytest.mark.parametrize("mem, expected", [(4096, 512), (8192, 1024), (1000, 125), (7, 0), (8, 1), (15999, 1999)])
def test_memcached_memory(mem, expected):
    assert zulip_memcached_memory(mem) == expected


@pytest.mark.parametrize(
    "mem, expected",
    [
        (1, 3),
        (2048, 3),
        (3000, 3),
        (3001, 4),
        (6000, 4),
        (6001, 6),
        (12000, 6),
        (12001, 8),
        (24000, 8),
        (24001, 16),
        (1 << 20, 16),
    ],
)
def test_uwsgi_processes(mem, expected):
    assert zulip_uwsgi_processes(mem) == expected


@pytest.mark.parametrize("mem, expected", [(1, False), (3800, False), (3801, True), (8192, True)])
def test_queue_workers_multiprocess(mem, expected):
    assert zulip_queue_workers_multiprocess(mem) is expected


@pytest.mark.parametrize("flt", MEMORY_FILTERS)
@pytest.mark.parametrize("value, as_int", [("4096", 4096), (" 8192\n", 8192), ("+3801", 3801), (4096.0, 4096)])
def test_numeric_strings_and_integral_floats(flt, value, as_int):
    assert flt(value) == flt(as_int)


@pytest.mark.parametrize("flt", MEMORY_FILTERS)
@pytest.mark.parametrize("value", [0, -1, "0", "-4096", "abc", "", "4096MB", "40.5", 4096.5, None, True, [4096], {}])
def test_bad_memory_raises_naming_input(flt, value):
    with pytest.raises(AnsibleFilterError) as excinfo:
        flt(value)
    message = str(excinfo.value)
    assert flt.__name__ in message
    assert repr(value) in message


@pytest.mark.parametrize(
    "value",
    ["1", "y", "t", "true", "yes", "enable", "enabled", "TRUE", "Yes", " Enabled ", "Y\n", 1, True],
)
def test_truthy_true(value):
    assert zulip_truthy(value) is True


@pytest.mark.parametrize(
    "value",
    ["0", "n", "false", "no", "on", "2", "", "disable", "truee", 0, 2, None, False, [], "yes please"],
)
def test_truthy_false(value):
    assert zulip_truthy(value) is False
