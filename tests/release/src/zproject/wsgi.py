# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""WSGI entry point: uwsgi loads module=zproject.wsgi:application with
chdir=<deployment dir>."""
import os
import sys

_DEPLOY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _DEPLOY_DIR not in sys.path:
    sys.path.insert(0, _DEPLOY_DIR)

from zerver.api import application  # noqa: E402

__all__ = ["application"]
