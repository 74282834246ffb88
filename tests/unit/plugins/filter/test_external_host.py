from __future__ import annotations

import pytest

from ansible_collections.zulip.server.plugins.filter import external_host
from ansible_collections.zulip.server.plugins.filter.external_host import zulip_external_host_problems


def test_filter_module_lists_the_filter():
    assert sorted(external_host.FilterModule().filters()) == ["zulip_external_host_problems"]


@pytest.mark.parametrize(
    "value",
    [
        "chat.example.com",
        "chat.example.com:8443",
        "zulip-up-app.lab.example",
        "CHAT.Example.COM",  # labels are matched case-insensitively
        "1.2.3.4",
        "1.2.3.4:443",
        "a.b",
        "chat.example.com:1",
        "chat.example.com:65535",
        "a" * 63 + ".example.com",  # the longest label
        ".".join(["a" * 63] * 4),  # the longest hostname: 255 characters
        ".".join(["a" * 63] * 4) + ":443",  # the port does not count
    ],
)
def test_accepted(value):
    assert zulip_external_host_problems(value) == []


@pytest.mark.parametrize("value", [None, ""])
def test_unset_refused(value):
    assert zulip_external_host_problems(value) == [
        "EXTERNAL_HOST must be set (Zulip: You must set EXTERNAL_HOST in /etc/zulip/settings.py)"
    ]


@pytest.mark.parametrize(
    "value, suggest",
    [
        ("zulipchat", ".local"),
        ("localhost", ".localdomain"),
        ("LOCALHOST", ".local"),  # Zulip compares with "localhost" exactly
        ("zulip-standalone", ".local"),
    ],
)
def test_no_domain_part_refused_with_zulips_hint(value, suggest):
    assert zulip_external_host_problems(value) == [
        f"EXTERNAL_HOST ({value}) does not contain a domain part: add {suggest} to the end"
    ]


def test_no_domain_part_is_looked_for_with_the_port():
    # Zulip looks for the dot before it drops the port...
    assert zulip_external_host_problems("localhost:9991") == [
        "EXTERNAL_HOST (localhost:9991) does not contain a domain part: add .local to the end"
    ]
    # ...so a dot in the port is enough for it; the port rule refuses that one.
    assert zulip_external_host_problems("zulipchat:1.5") == [
        "EXTERNAL_HOST (zulipchat:1.5) has the port '1.5', which is not a number from 1 to 65535"
    ]


def test_a_value_that_is_not_a_string_is_read_as_one():
    assert zulip_external_host_problems(8443) == [
        "EXTERNAL_HOST (8443) does not contain a domain part: add .local to the end"
    ]
    assert zulip_external_host_problems(1.5) == []  # "1.5": two valid labels, as for Zulip


@pytest.mark.parametrize(
    "value",
    [
        "chat.example.com.",  # trailing dot: an empty label
        ".example.com",
        "chat..example.com",
        "a" * 64 + ".example.com",  # one character over the longest label
        "-chat.example.com",
        "chat-.example.com",
        "chat.example.com-",
        "chat_1.example.com",
        "chat example.com",
        " chat.example.com",
    ],
)
def test_invalid_hostname_refused(value):
    problems = zulip_external_host_problems(value)
    assert f"EXTERNAL_HOST ({value}) does not validate as a hostname" in problems[0]
    assert "1 to 63 letters, digits or hyphens" in problems[0]


def test_a_url_is_refused_for_its_port():
    # Zulip checks only "https", a valid one-label hostname; the port rule catches it.
    assert zulip_external_host_problems("https://chat.example.com") == [
        "EXTERNAL_HOST (https://chat.example.com) has the port '//chat.example.com', which is not a number from 1 to 65535"
    ]


def test_hyphens_inside_a_label_accepted():
    assert zulip_external_host_problems("zulip--up-app.example.com") == []


def test_non_ascii_refused_with_the_punycode_form():
    assert zulip_external_host_problems("exämple.com") == [
        "EXTERNAL_HOST (exämple.com) contains non-ASCII characters: switch to punycode, xn--exmple-cua.com"
    ]


def test_non_ascii_with_a_port_suggests_the_hostname_only():
    assert zulip_external_host_problems("chat.exämple.com:8443") == [
        "EXTERNAL_HOST (chat.exämple.com:8443) contains non-ASCII characters: switch to punycode, chat.xn--exmple-cua.com"
    ]


def test_too_long_refused():
    hostname = ".".join(["a" * 63] * 3 + ["a" * 62, "a"])  # valid labels
    assert len(hostname) == 256
    assert zulip_external_host_problems(hostname) == [
        f"EXTERNAL_HOST ({hostname}) is too long to be a valid hostname: 256 characters, at most 255"
    ]


def test_several_problems_reported_together():
    hostname = "-" + "b" * 255 + ".example.com"
    problems = zulip_external_host_problems(hostname + ":0")
    assert [p.split(": ", 1)[0] for p in problems] == [
        f"EXTERNAL_HOST ({hostname}:0) is too long to be a valid hostname",
        f"EXTERNAL_HOST ({hostname}:0) does not validate as a hostname",
        f"EXTERNAL_HOST ({hostname}:0) has the port '0', which is not a number from 1 to 65535",
    ]


@pytest.mark.parametrize("port", ["0", "65536", "99999", "abc", "", "-1", "+443", " 443", "443 ", "8443:1", "²"])
def test_bad_port_refused(port):
    value = f"chat.example.com:{port}"
    assert zulip_external_host_problems(value) == [
        f"EXTERNAL_HOST ({value}) has the port {port!r}, which is not a number from 1 to 65535"
    ]


def test_bad_port_reported_with_no_domain_part():
    assert zulip_external_host_problems("zulipchat:abc") == [
        "EXTERNAL_HOST (zulipchat:abc) does not contain a domain part: add .local to the end",
        "EXTERNAL_HOST (zulipchat:abc) has the port 'abc', which is not a number from 1 to 65535",
    ]
