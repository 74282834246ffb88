# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""Shared code of scripts/{restart,start,stop}-server (supervisorctl based).

Django restarts follow Zulip's contract: with `[application_server]
rolling_restart` true in zulip.conf and uWSGI's master fifo present,
restart-server asks the running uWSGI master for a chain reload (workers are
replaced one at a time, the master keeps the socket, so nginx never sees it
closed) and waits for the last new worker to write the ready file; otherwise
it restarts the zulip-django program.

The 10.x releases (those that ship zerver/management/commands/runtusd.py)
also handle zulip-tus, Zulip 10's tusd, as Zulip's scripts do:
restart-server restarts it with the workers whether or not supervisor has
such a program (so a missing zulip-tus fails the restart, and with
--less-graceful the stop), but not when nothing of Zulip runs, which is a
start; start-server and stop-server act on it only if it exists.

zulip-katex (Zulip >= 9.0's KaTeX service, all releases) is optional, as in
Zulip's scripts (list_supervisor_processes): when supervisor has it,
restart-server restarts it (or starts it, when not running) after the queue
workers, before Tornado and Django, and start-server and stop-server act on
it; when it has not, it is skipped silently.
"""
import argparse
import configparser
import errno
import os
import subprocess
import sys
import time

DEPLOY_DIR = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPLOYMENTS = os.environ.get("ZULIP_DEPLOYMENTS_DIR", "/home/zulip/deployments")
CONF_PATH = os.environ.get("ZULIP_CONF_PATH", "/etc/zulip/zulip.conf")
# uwsgi.ini's master-fifo, and the file zproject/wsgi.py's last worker writes.
UWSGI_CONTROL = os.path.join(DEPLOYMENTS, "uwsgi-control")
DJANGO_READY = os.path.join(os.environ.get("ZULIP_STATE_DIR", "/var/lib/zulip"), "django-workers.ready")
# Zulip waits for the ready file forever; the double gives up after this long
# (a worker that cannot load the new code never writes it) and fails loudly.
ROLLING_RESTART_TIMEOUT = float(os.environ.get("ZULIP_ROLLING_RESTART_TIMEOUT", "300"))
POLL_INTERVAL = 0.1
# Zulip's get_config() boolean coercion (scripts/lib/zulip_tools.py).
TRUE_VALUES = ("1", "y", "t", "true", "yes", "enable", "enabled")
# Run on the active app server only (zulip-once.conf); restarted like workers.
ONCE_PROGRAMS = ("zulip_deliver_scheduled_emails", "zulip_deliver_scheduled_messages")
# Zulip 10's resumable-upload server (`manage.py runtusd`).
TUS_PROGRAM = "zulip-tus"
# Zulip >= 9.0's KaTeX server, present unless [application_server] katex_server is false.
KATEX_PROGRAM = "zulip-katex"


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


def supervisor_status():
    """{name: state} of every program supervisord has."""
    result = supervisorctl("status", check=False)
    # `status` exits non-zero when some program is not RUNNING; only fail when
    # nothing could be listed at all.
    if result.returncode not in (0, 3) and not result.stdout.strip():
        sys.stderr.write(result.stdout + result.stderr)
        sys.stderr.write("Cannot talk to supervisord (supervisorctl status failed).\n")
        sys.exit(1)
    return {line.split()[0]: (line.split()[1:2] or [""])[0] for line in result.stdout.splitlines() if line.strip()}


def zulip_programs():
    """Return (workers, tornado, django) supervisor names that exist."""
    names = list(supervisor_status())
    workers = [n for n in names if n.startswith("zulip-workers:") or n in ONCE_PROGRAMS]
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


def get_config(section, key, default=False):
    """zulip.conf value as Zulip reads it: booleans from its list of true words."""
    parser = configparser.RawConfigParser()
    parser.read(CONF_PATH)
    if not parser.has_option(section, key):
        return default
    value = parser.get(section, key)
    if isinstance(default, bool):
        return value.strip().lower() in TRUE_VALUES
    return value


def django_running():
    return supervisorctl("status", "zulip-django", check=False).returncode == 0


def chain_reload_django():
    """Chain-reload uWSGI through its master fifo and wait for the new workers.

    Returns False (nothing written) when no uWSGI master reads the fifo, so the
    caller can fall back to a plain restart; exits 1 on timeout.
    """
    try:
        os.unlink(DJANGO_READY)
    except FileNotFoundError:
        pass
    try:
        # Non-blocking: a fifo left behind by a dead master has no reader, and a
        # plain open() would wait for one forever.
        fd = os.open(UWSGI_CONTROL, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno in (errno.ENXIO, errno.ENOENT):
            return False
        raise
    try:
        os.write(fd, b"c")  # uWSGI master fifo command "c": chain reload
    finally:
        os.close(fd)
    print("Chain-reloading the Django (uWSGI) workers")
    deadline = time.monotonic() + ROLLING_RESTART_TIMEOUT
    while not os.path.exists(DJANGO_READY):
        if time.monotonic() > deadline:
            sys.stderr.write(
                f"Chain reload: {DJANGO_READY} did not appear within "
                f"{ROLLING_RESTART_TIMEOUT:g} s; see /var/log/zulip/django.log.\n"
            )
            sys.exit(1)
        time.sleep(POLL_INTERVAL)
    print("Chain reload complete")
    return True


def restart_django(graceful=True):
    if (
        graceful
        and get_config("application_server", "rolling_restart", False)
        and os.path.exists(UWSGI_CONTROL)
        and django_running()
        and chain_reload_django()
    ):
        return
    supervisorctl("restart", "zulip-django")


def release_runs_tusd():
    """The 10.x releases ship runtusd (build.py leaves it out of 9.x)."""
    return os.path.exists(os.path.join(DEPLOY_DIR, "zerver", "management", "commands", "runtusd.py"))


def manage(*args):
    return subprocess.run([os.path.join(DEPLOY_DIR, "manage.py"), *args], cwd=DEPLOY_DIR).returncode


def restart_main():
    become_zulip()
    parser = argparse.ArgumentParser(description="Restart the Zulip (test double) services.")
    parser.add_argument("--fill-cache", action="store_true")
    parser.add_argument("--skip-checks", action="store_true")
    parser.add_argument("--less-graceful", action="store_true",
                        help="restart uWSGI even when a rolling restart is possible")
    parser.add_argument("--skip-client-reloads", action="store_true",
                        help="do not tell the clients to reload afterwards")
    args = parser.parse_args()  # unknown options fail, as Zulip's

    # As Zulip's: Django's system checks and a database connection first.
    if not args.skip_checks and manage("check", "--database", "default") != 0:
        sys.stderr.write("manage.py check failed; not restarting.\n")
        return 1
    if args.fill_cache and manage("fill_memcached_caches", "--automated", "--skip-checks") != 0:
        sys.stderr.write("fill_memcached_caches failed.\n")
        return 1
    swap_current_symlink()
    workers, tornado, django = zulip_programs()
    if not (workers or tornado or django):
        sys.stderr.write("No zulip-* programs are configured in supervisord.\n")
        return 1
    # 10.x, as Zulip 10's restart-server: zulip-tus goes with the workers
    # whether supervisor has it or not, so a missing program fails the
    # restart (its `start`, or the `stop` of --less-graceful); when nothing of
    # Zulip runs, the restart is a start, which starts only what exists.
    states, tus_restart, tus_start = supervisor_status(), [], []
    katex = [KATEX_PROGRAM] if KATEX_PROGRAM in states else []  # optional: only if it exists
    if release_runs_tusd():
        if any(states.get(name) == "RUNNING" for name in [*workers, *tornado, *django, TUS_PROGRAM]):
            tus_restart = [TUS_PROGRAM]
        elif TUS_PROGRAM in states:
            tus_start = [TUS_PROGRAM]
    if args.less_graceful:  # as Zulip's: every worker stopped now, started at the end
        katex_running = [name for name in katex if states[name] == "RUNNING"]
        if workers or katex_running or tus_restart:
            supervisorctl("stop", *workers, *katex_running, *tus_restart)
    else:
        for name in workers:  # one at a time
            supervisorctl("restart", name)
        for name in katex:  # Zulip's restart_or_start
            supervisorctl("restart" if states[name] == "RUNNING" else "start", name)
        for name in tus_restart:  # Zulip's restart_or_start: `start` fails for a program supervisor lacks
            supervisorctl("restart" if states.get(name) == "RUNNING" else "start", name)
    if any(":" in n for n in tornado):
        supervisorctl("restart", "zulip-tornado:*")
    elif tornado:
        supervisorctl("restart", "zulip-tornado")
    if django:
        restart_django(graceful=not args.less_graceful)
    if args.less_graceful:
        # Those that exist (Zulip's list_supervisor_processes).
        existing = supervisor_status() if tus_restart else {}
        started = workers + katex + [name for name in tus_restart if name in existing] + tus_start
        if started:
            supervisorctl("start", *started)
    elif tus_start:
        supervisorctl("start", *tus_start)
    if not args.skip_client_reloads:
        subprocess.run([os.path.join(DEPLOY_DIR, "scripts", "reload-clients"), "--background"], check=True)
    print(f"Zulip test double restarted from {DEPLOY_DIR}")
    return 0


def _optional_programs():
    """For start-server and stop-server: zulip-katex if it exists, zulip-tus
    (10.x) if it exists."""
    states = supervisor_status()
    return ([KATEX_PROGRAM] if KATEX_PROGRAM in states else []) + \
        ([TUS_PROGRAM] if release_runs_tusd() and TUS_PROGRAM in states else [])


def start_main():
    become_zulip()
    workers, tornado, django = zulip_programs()
    if not (workers or tornado or django):
        sys.stderr.write("No zulip-* programs are configured in supervisord.\n")
        return 1
    for name in django + tornado + workers + _optional_programs():
        _tolerant("start", name, "already started")
    print("Zulip test double started")
    return 0


def stop_main():
    become_zulip()
    workers, tornado, django = zulip_programs()
    for name in django + tornado + workers + _optional_programs():
        _tolerant("stop", name, "not running")
    print("Zulip test double stopped")
    return 0
