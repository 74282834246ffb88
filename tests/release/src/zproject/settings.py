# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""DJANGO_SETTINGS_MODULE: what the admin configured, then what follows from it."""
from .configured_settings import *  # noqa: F403
from .computed_settings import *  # noqa: F403
