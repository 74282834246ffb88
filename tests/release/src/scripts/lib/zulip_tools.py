# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Helpers the double's scripts share (cf. Zulip's scripts/lib/zulip_tools.py)."""
import os
import pwd
import re
import sys

DEPLOYMENTS_DIR = os.environ.get("ZULIP_DEPLOYMENTS_DIR", "/home/zulip/deployments")
VERSION_RE = re.compile(r"""^ZULIP_VERSION\s*=\s*["']([^"']*)["']""", re.MULTILINE)


def assert_not_running_as_root():
    if os.geteuid() == 0:
        name = os.path.basename(sys.argv[0])
        sys.stderr.write(f"{name} should not be run as root.  Use `su zulip` to switch to the 'zulip'\n"
                         "user before rerunning this, or use \n  su zulip -c '" + name + " ...'\n"
                         "to switch users and run this as a single command.\n")
        sys.exit(1)


def assert_running_as_root():
    if os.geteuid() != 0:
        sys.stderr.write(f"{os.path.basename(sys.argv[0])} must be run as root.\n")
        sys.exit(1)


def su_to_zulip():
    """Become the zulip user (for the scripts that root may start)."""
    pw = pwd.getpwnam("zulip")
    os.setgid(pw.pw_gid)
    os.initgroups("zulip", pw.pw_gid)
    os.setuid(pw.pw_uid)
    os.environ["HOME"] = pw.pw_dir


def deployment_version(path):
    try:
        with open(os.path.join(path, "version.py")) as f:
            match = VERSION_RE.search(f.read())
    except OSError:
        return "unknown"
    return match.group(1) if match else "unknown"
