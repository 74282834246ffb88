# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Use the deployment's virtualenv (zulip-current-venv) when it exists: a
script re-executes itself under the venv's Python; code that cannot (the
WSGI application, inside uWSGI's embedded Python) adds the venv's packages
to its own path, as Zulip's setup_path() activates its venv in-process."""
import os
import site
import sys

DEPLOY_ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def setup_path(in_process=False):
    venv = os.path.join(DEPLOY_ROOT, "zulip-current-venv")
    python = os.path.join(venv, "bin", "python3")
    if os.path.exists(python) and os.path.realpath(sys.prefix) != os.path.realpath(venv):
        if not in_process:
            os.execv(python, [python, *sys.argv])
        packages = os.path.join(os.path.realpath(venv), "lib",
                                f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages")
        before = list(sys.path)
        site.addsitedir(packages)
        # The venv's packages first, as in the venv itself.
        sys.path[:] = [p for p in sys.path if p not in before] + before
    if DEPLOY_ROOT not in sys.path:
        sys.path.insert(0, DEPLOY_ROOT)
