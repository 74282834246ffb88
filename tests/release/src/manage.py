#!/usr/bin/env python3
# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Django's manage.py, as Zulip's: under the deployment's venv, never as root."""
import os
import sys

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BASE_DIR)
from scripts.lib.setup_path import setup_path  # noqa: E402

setup_path()

if __name__ == "__main__":
    from scripts.lib.zulip_tools import assert_not_running_as_root

    assert_not_running_as_root()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
