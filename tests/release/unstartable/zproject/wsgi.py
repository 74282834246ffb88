# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
# Shipped ONLY in dist/unstartable/zulip-server-10.2.tar.gz, over src/'s
# zproject/wsgi.py: the WSGI application FAILS TO LOAD ON PURPOSE, to exercise
# the collection's automatic rollback at the restart.  Django's checks (which
# restart-server runs) pass: they do not import wsgi.py.  uWSGI's workers
# cannot load it, so a restart never sees them ready, as with a real release
# that has a packaging mistake.
"""WSGI entry point of a release that cannot start: it imports a module the
release does not ship, so loading it raises ModuleNotFoundError."""
import os
import sys

_DEPLOY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _DEPLOY_DIR not in sys.path:
    sys.path.insert(0, _DEPLOY_DIR)

from zerver.not_in_this_release import application  # noqa: E402,F401

__all__ = ["application"]
