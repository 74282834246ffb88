# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Zulip's own system checks (zerver/checks.py), registered without tags:
they run with `manage.py check`, `migrate`, every management command that
does not pass --skip-checks, and scripts/restart-server."""
import os
import re

from django.conf import settings
from django.core.checks import Error, register

# (setting, the example value prod_settings_template.py ships)
REQUIRED = [
    ("EXTERNAL_HOST", "zulip.example.com"),
    ("ZULIP_ADMINISTRATOR", "zulip-admin@example.com"),
    ("SECRET_KEY", ""),
    ("AUTHENTICATION_BACKENDS", ()),
]
LABEL = re.compile(r"(?!-)[a-z\d-]{1,63}(?<!-)$", re.IGNORECASE)


@register
def check_required_settings(app_configs, **kwargs):
    errors = []
    for name, example in REQUIRED:
        value = getattr(settings, name, None)
        if not value or value == example:
            errors.append(Error(f"You must set {name} in /etc/zulip/settings.py",
                                obj=f"settings.{name}", id="zulip.E001"))
    return errors


@register
def check_external_host_setting(app_configs, **kwargs):
    host = getattr(settings, "EXTERNAL_HOST", None)
    if not host:
        return []
    errors = []
    if "." not in host and settings.PRODUCTION and os.environ.get("ZULIP_TEST_SUITE") != "true":
        suffix = ".localdomain" if host == "localhost" else ".local"
        errors.append(Error(f"EXTERNAL_HOST ({host}) does not contain a domain part",
                            obj="settings.EXTERNAL_HOST", hint=f"Add {suffix} to the end", id="zulip.E002"))
    name = host.split(":")[0]
    if len(name) > 255:
        errors.append(Error(f"EXTERNAL_HOST ({host}) is too long to be a valid hostname",
                            obj="settings.EXTERNAL_HOST", id="zulip.E002"))
    if not name.isascii():
        punycode = ".".join(label if label.isascii() else "xn--" + label.encode("punycode").decode()
                            for label in name.split("."))
        errors.append(Error(f"EXTERNAL_HOST ({host}) contains non-ASCII characters",
                            obj="settings.EXTERNAL_HOST", hint=f"Switch to punycode: {punycode}", id="zulip.E002"))
    elif not all(LABEL.match(label) for label in name.split(".")):
        errors.append(Error(f"EXTERNAL_HOST ({host}) does not validate as a hostname",
                            obj="settings.EXTERNAL_HOST", id="zulip.E002"))
    return errors
