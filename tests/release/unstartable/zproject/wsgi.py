# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
# Shipped ONLY in dist/unstartable/zulip-server-10.2.tar.gz, over src/'s
# zproject/wsgi.py: the application FAILS TO LOAD ON PURPOSE, to exercise the
# collection's automatic rollback at the restart.  Its migrations, manage.py
# and queue workers work; `manage.py checkconfig`, which restart-server runs
# before it restarts anything, imports this module and fails, as uWSGI's
# workers would.
"""WSGI entry point of a release that cannot start: it imports a module the
release does not ship (a packaging mistake), so loading it raises
ModuleNotFoundError."""
import os
import sys

_DEPLOY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _DEPLOY_DIR not in sys.path:
    sys.path.insert(0, _DEPLOY_DIR)

from zerver.not_in_this_release import application  # noqa: E402,F401

__all__ = ["application"]
