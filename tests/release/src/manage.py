#!/usr/bin/env python3
# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip: a small stand-in honouring the deploy contract.
"""Management commands (a Django-manage.py look-alike).  Run as the zulip user."""
import os
import sys

DEPLOY_DIR = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(DEPLOY_DIR, "zulip-current-venv")
VENV_PYTHON = os.path.join(VENV, "bin", "python3")

# Like Zulip: always run under the deployment's virtualenv when it exists.
if os.path.exists(VENV_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(VENV):
    os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])

sys.path.insert(0, DEPLOY_DIR)

if __name__ == "__main__":
    if os.geteuid() == 0:
        sys.stderr.write(
            "manage.py should not be run as root.  Use `su zulip` (or runuser -u zulip --) "
            "to run it as the zulip user.\n"
        )
        sys.exit(1)
    from zerver.commands import main

    sys.exit(main(sys.argv[1:]))
