# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Defaults, then the admin's /etc/zulip/settings.py, which deploy tooling
links as zproject/prod_settings.py (as Zulip's configured_settings.py)."""
from .default_settings import *  # noqa: F403

try:
    from .prod_settings import *  # noqa: F403
except ModuleNotFoundError as e:
    if e.name != "zproject.prod_settings":
        raise
    raise ImportError(
        "zproject/prod_settings.py is missing: deploy tooling must link it to /etc/zulip/settings.py"
    ) from None
