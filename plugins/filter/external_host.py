# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Zulip's rules for ``EXTERNAL_HOST``, as a Jinja2 filter.

Zulip refuses to start with an ``EXTERNAL_HOST`` that fails its Django system
checks ``zulip.E001`` (not set) and ``zulip.E002`` (not a hostname), which it
runs only once the release is deployed. The preflight applies the same rules
before any host is changed. The collection adds one rule of its own: a port,
when given, is a number from 1 to 65535 (nginx and Zulip fail otherwise).
Documentation: ``zulip_external_host_problems.yml``.
"""

from __future__ import annotations

import re

# One label of a hostname, as Zulip's zulip.E002 check reads it (re.match,
# case-insensitive): 1 to 63 letters, digits and hyphens, no hyphen first or last.
_LABEL_RE = re.compile(r"(?!-)[A-Z\d-]{1,63}(?<!-)$", re.IGNORECASE)
# ASCII digits only: str.isdigit() also accepts digits such as "²".
_PORT_RE = re.compile(r"[0-9]+\Z")
_MAX_HOSTNAME = 255
_MAX_PORT = 65535


def _punycode(hostname):
    """``hostname`` with each non-ASCII label written as IDNA's ``xn--`` form."""
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in hostname.split(".")
    )


def zulip_external_host_problems(value):
    """What Zulip (and the collection) refuse in ``value``; empty when it is fine."""
    external_host = "" if value is None else str(value)
    if not external_host:
        return ["EXTERNAL_HOST must be set (Zulip: You must set EXTERNAL_HOST in /etc/zulip/settings.py)"]

    problems = []
    # Zulip looks for a dot in the whole value, port included, and reports
    # nothing else when there is none.
    if "." not in external_host:
        suggest = ".localdomain" if external_host == "localhost" else ".local"
        problems.append(f"EXTERNAL_HOST ({external_host}) does not contain a domain part: add {suggest} to the end")
    else:
        hostname = external_host.split(":", 1)[0]
        if len(hostname) > _MAX_HOSTNAME:
            problems.append(
                f"EXTERNAL_HOST ({external_host}) is too long to be a valid hostname:"
                f" {len(hostname)} characters, at most {_MAX_HOSTNAME}"
            )
        if not hostname.isascii():
            problems.append(
                f"EXTERNAL_HOST ({external_host}) contains non-ASCII characters:"
                f" switch to punycode, {_punycode(hostname)}"
            )
        elif not all(_LABEL_RE.match(label) for label in hostname.split(".")):
            problems.append(
                f"EXTERNAL_HOST ({external_host}) does not validate as a hostname: each dot-separated label must be"
                " 1 to 63 letters, digits or hyphens, not starting or ending with a hyphen (and no trailing dot)"
            )

    # The collection's own rule, whatever Zulip says about the hostname.
    if ":" in external_host:
        port = external_host.split(":", 1)[1]
        if not _PORT_RE.match(port) or not 1 <= int(port) <= _MAX_PORT:
            problems.append(
                f"EXTERNAL_HOST ({external_host}) has the port {port!r}, which is not a number from 1 to {_MAX_PORT}"
            )
    return problems


class FilterModule:
    """Zulip EXTERNAL_HOST filters."""

    def filters(self):
        return {
            "zulip_external_host_problems": zulip_external_host_problems,
        }
