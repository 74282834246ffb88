# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""Shared code of scripts/{restart,start,stop}-server (supervisorctl based)."""
import argparse
import os
import subprocess
import sys

DEPLOY_DIR = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOYMENTS = os.environ.get("ZULIP_DEPLOYMENTS_DIR", "/home/zulip/deployments")


def become_zulip():
    """Re-exec as the zulip user when started as root."""
    if os.geteuid() == 0:
        script = os.path.abspath(sys.argv[0])
        os.execvp("runuser", ["runuser", "-u", "zulip", "--", script, *sys.argv[1:]])


def supervisorctl(*args, check=True):
    cmd = ["supervisorctl", *args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if check and result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.stderr.write(f"{' '.join(cmd)} failed with exit code {result.returncode}\n")
        sys.exit(1)
    return result


def zulip_programs():
    """Return (workers, tornado, django) supervisor names that exist."""
    result = supervisorctl("status", check=False)
    # `status` exits non-zero when some program is not RUNNING; only fail when
    # nothing could be listed at all.
    if result.returncode not in (0, 3) and not result.stdout.strip():
        sys.stderr.write(result.stdout + result.stderr)
        sys.stderr.write("Cannot talk to supervisord (supervisorctl status failed).\n")
        sys.exit(1)
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    workers = [n for n in names if n.startswith("zulip-workers:")]
    tornado = [n for n in names if n == "zulip-tornado" or n.startswith("zulip-tornado:")]
    django = [n for n in names if n == "zulip-django"]
    return workers, tornado, django


def swap_current_symlink():
    current = os.path.join(DEPLOYMENTS, "current")
    if not os.path.isdir(DEPLOYMENTS):
        return
    old = os.path.realpath(current) if os.path.lexists(current) else None
    if old == DEPLOY_DIR:
        return
    if old is not None:
        _atomic_symlink(old, os.path.join(DEPLOYMENTS, "last"))
    _atomic_symlink(DEPLOY_DIR, current)
    print(f"Updated {current} -> {DEPLOY_DIR}" + (f" (last -> {old})" if old else ""))


def _atomic_symlink(target, link):
    tmp = f"{link}.tmp.{os.getpid()}"
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _tolerant(action, name, harmless):
    result = supervisorctl(action, name, check=False)
    if result.returncode != 0 and harmless not in result.stdout + result.stderr:
        sys.stderr.write(result.stdout + result.stderr)
        sys.stderr.write(f"supervisorctl {action} {name} failed\n")
        sys.exit(1)


def manage(*args):
    return subprocess.run([os.path.join(DEPLOY_DIR, "manage.py"), *args], cwd=DEPLOY_DIR).returncode


def restart_main():
    become_zulip()
    parser = argparse.ArgumentParser(description="Restart the Zulip (test double) services.")
    parser.add_argument("--fill-cache", action="store_true")
    parser.add_argument("--skip-checks", action="store_true")
    args, _ignored = parser.parse_known_args()  # e.g. --less-graceful

    if not args.skip_checks and manage("checkconfig") != 0:
        sys.stderr.write("checkconfig failed; not restarting.\n")
        return 1
    swap_current_symlink()
    if args.fill_cache and manage("fill_memcached_caches", "--automated") != 0:
        sys.stderr.write("fill_memcached_caches failed.\n")
        return 1
    workers, tornado, django = zulip_programs()
    if not (workers or tornado or django):
        sys.stderr.write("No zulip-* programs are configured in supervisord.\n")
        return 1
    for name in workers:  # one at a time
        supervisorctl("restart", name)
    if any(":" in n for n in tornado):
        supervisorctl("restart", "zulip-tornado:*")
    elif tornado:
        supervisorctl("restart", "zulip-tornado")
    if django:
        supervisorctl("restart", "zulip-django")
    print(f"Zulip test double restarted from {DEPLOY_DIR}")
    return 0


def start_main():
    become_zulip()
    workers, tornado, django = zulip_programs()
    if not (workers or tornado or django):
        sys.stderr.write("No zulip-* programs are configured in supervisord.\n")
        return 1
    for name in django + tornado + workers:
        _tolerant("start", name, "already started")
    print("Zulip test double started")
    return 0


def stop_main():
    become_zulip()
    workers, tornado, django = zulip_programs()
    for name in django + tornado + workers:
        _tolerant("stop", name, "not running")
    print("Zulip test double stopped")
    return 0
