# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  Offline checks of scripts/restart-server's Django restart
# (src/scripts/lib/server_control.py) and of the ready file zproject/wsgi.py
# writes: with [application_server] rolling_restart and a uWSGI master reading
# the master fifo, a chain reload ("c") and a wait for the ready file; a plain
# `supervisorctl restart zulip-django` otherwise.  The 10.x releases also
# restart zulip-tus (Zulip 10's tusd), which must exist.  supervisorctl and
# the uWSGI master are stand-ins; no supervisord or uWSGI runs.
import importlib.util
import os
import sys
import threading
import time
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")

# Programs are RUNNING ($FAKE_STATE otherwise); zulip-tus exists when
# $FAKE_TUS names its state, zulip-katex when $FAKE_KATEX does.  As supervisor 4, acting on a program it does not
# have is an error (exit 1).
FAKE_SUPERVISORCTL = """#!/bin/sh
echo "$*" >> "$FAKE_SUPERVISORCTL_LOG"
state="${FAKE_STATE:-RUNNING}"
if [ "$1" = status ] && [ -z "$2" ]; then
  echo "zulip-django                     $state   pid 10, uptime 0:01:00"
  echo "zulip-tornado                    $state   pid 11, uptime 0:01:00"
  echo "zulip-workers:zulip_events       $state   pid 12, uptime 0:01:00"
  if [ -n "$FAKE_TUS" ]; then
    echo "zulip-tus                        $FAKE_TUS   pid 13, uptime 0:01:00"
  fi
  if [ -n "$FAKE_KATEX" ]; then
    echo "zulip-katex                      $FAKE_KATEX   pid 14, uptime 0:01:00"
  fi
  exit 0
fi
if [ "$1" = status ] && [ "$2" = zulip-django ]; then
  exit "${FAKE_DJANGO_STATUS:-0}"
fi
case "$1" in
  start|stop|restart)
    shift
    rc=0
    for name in "$@"; do
      case " zulip-django zulip-tornado zulip-workers:zulip_events ${FAKE_TUS:+zulip-tus} ${FAKE_KATEX:+zulip-katex} " in
        *" $name "*) ;;
        *) echo "$name: ERROR (no such process)"; rc=1 ;;
      esac
    done
    exit $rc
    ;;
esac
exit 0
"""


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeMaster:
    """Reads the master fifo like uWSGI's master; on "c" it writes the ready
    file after `delay` seconds (never, when delay is None)."""

    def __init__(self, fifo, ready, delay):
        self.fifo, self.ready, self.delay = fifo, ready, delay
        self.commands = b""
        os.mkfifo(fifo)
        # O_NONBLOCK: opening the read end must not wait for a writer.
        self.fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                data = os.read(self.fd, 16)
            except BlockingIOError:
                data = b""
            if b"c" in data:
                self.commands += data
                if self.delay is not None:
                    time.sleep(self.delay)
                    with open(self.ready, "w") as f:
                        f.write("{}")
            self.stop.wait(0.01)

    def close(self):
        self.stop.set()
        self.thread.join()
        os.close(self.fd)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """server_control with its paths in tmp_path and a fake supervisorctl."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    ctl = bindir / "supervisorctl"
    ctl.write_text(FAKE_SUPERVISORCTL)
    ctl.chmod(0o755)
    log = tmp_path / "supervisorctl.log"
    log.write_text("")
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SUPERVISORCTL_LOG", str(log))
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    sc = load(os.path.join(SRC, "scripts", "lib", "server_control.py"), "server_control_under_test")
    monkeypatch.setattr(sc, "become_zulip", lambda: None)
    monkeypatch.setattr(sc, "DEPLOY_DIR", release_tree(tmp_path, "9.4"))
    monkeypatch.setattr(sc, "DEPLOYMENTS", str(deployments))
    monkeypatch.setattr(sc, "CONF_PATH", str(tmp_path / "zulip.conf"))
    monkeypatch.setattr(sc, "UWSGI_CONTROL", str(deployments / "uwsgi-control"))
    monkeypatch.setattr(sc, "DJANGO_READY", str(state / "django-workers.ready"))
    monkeypatch.setattr(sc, "ROLLING_RESTART_TIMEOUT", 5.0)
    ns = types.SimpleNamespace(sc=sc, tmp=tmp_path, log=log, monkeypatch=monkeypatch,
                               fifo=str(deployments / "uwsgi-control"),
                               ready=str(state / "django-workers.ready"), masters=[])

    def conf(text):
        (tmp_path / "zulip.conf").write_text(text)

    def master(delay=0.3):
        m = FakeMaster(ns.fifo, ns.ready, delay)
        ns.masters.append(m)
        return m

    def restart(*args):
        monkeypatch.setattr(sys, "argv", ["restart-server", "--skip-checks", "--skip-client-reloads", *args])
        t0 = time.monotonic()
        rc = sc.restart_main()
        return rc, time.monotonic() - t0

    def calls():
        return log.read_text().splitlines()

    def release(version):
        monkeypatch.setattr(sc, "DEPLOY_DIR", release_tree(tmp_path, version))

    ns.conf, ns.master, ns.restart, ns.calls, ns.release = conf, master, restart, calls, release
    yield ns
    for m in ns.masters:
        m.close()


ROLLING = "[application_server]\nrolling_restart = true\n"


def release_tree(tmp_path, version):
    """A deployment as build.py makes them: runtusd from 10.0 on."""
    tree = tmp_path / f"zulip-server-{version}"
    commands = tree / "zerver" / "management" / "commands"
    if not commands.exists():
        commands.mkdir(parents=True)
        (tree / "version.py").write_text(f'ZULIP_VERSION = "{version}"\n')
        if not version.startswith("9."):
            (commands / "runtusd.py").write_text("# runtusd\n")
    return str(tree)


def test_rolling_restart_chain_reloads_and_waits_for_ready_file(env):
    env.conf(ROLLING)
    master = env.master(delay=0.3)
    rc, elapsed = env.restart()
    assert rc == 0
    assert master.commands == b"c"
    assert os.path.exists(env.ready)
    assert elapsed >= 0.3  # returned only once the last new worker was ready
    assert "restart zulip-django" not in env.calls()
    assert "status zulip-django" in env.calls()
    # Workers and Tornado are still restarted one by one, before Django.
    assert env.calls().index("restart zulip-workers:zulip_events") < env.calls().index("restart zulip-tornado")


def test_stale_ready_file_does_not_end_the_wait(env):
    env.conf(ROLLING)
    with open(env.ready, "w") as f:
        f.write("{}")  # left by the previous start
    env.master(delay=0.3)
    rc, elapsed = env.restart()
    assert rc == 0 and elapsed >= 0.3


@pytest.mark.parametrize("conf", [
    "",
    "[application_server]\n",
    "[application_server]\nrolling_restart = false\n",
    "[application_server]\nrolling_restart = 0\n",
])
def test_without_rolling_restart_django_is_restarted(env, conf):
    env.conf(conf)
    master = env.master()
    rc, _ = env.restart()
    assert rc == 0
    assert "restart zulip-django" in env.calls()
    assert master.commands == b""


@pytest.mark.parametrize("word", ["1", "y", "t", "True", "YES", "enable", "enabled"])
def test_zulip_true_words_enable_rolling_restart(env, word):
    env.conf(f"[application_server]\nrolling_restart = {word}\n")
    master = env.master(delay=0)
    rc, _ = env.restart()
    assert rc == 0 and master.commands == b"c"
    assert "restart zulip-django" not in env.calls()


def test_no_master_fifo_restarts_django(env):
    env.conf(ROLLING)
    rc, _ = env.restart()
    assert rc == 0
    assert "restart zulip-django" in env.calls()


def test_fifo_without_a_master_reading_it_does_not_hang(env):
    env.conf(ROLLING)
    os.mkfifo(env.fifo)  # left behind by a uWSGI master that died
    rc, elapsed = env.restart()
    assert rc == 0
    assert "restart zulip-django" in env.calls()
    assert elapsed < 3


def test_django_not_running_is_started_not_chain_reloaded(env):
    env.conf(ROLLING)
    env.monkeypatch.setenv("FAKE_DJANGO_STATUS", "3")
    master = env.master()
    rc, _ = env.restart()
    assert rc == 0
    assert master.commands == b""
    assert "restart zulip-django" in env.calls()


def test_less_graceful_stops_every_worker_first_and_starts_them_last(env):
    env.conf(ROLLING)
    rc, _ = env.restart("--less-graceful")
    assert rc == 0
    calls = env.calls()
    assert "stop zulip-workers:zulip_events" in calls and "restart zulip-workers:zulip_events" not in calls
    assert calls.index("stop zulip-workers:zulip_events") < calls.index("restart zulip-django") \
        < calls.index("start zulip-workers:zulip_events")


def test_less_graceful_restarts_django(env):
    env.conf(ROLLING)
    master = env.master()
    rc, _ = env.restart("--less-graceful")
    assert rc == 0
    assert master.commands == b""
    assert "restart zulip-django" in env.calls()


def test_chain_reload_that_never_becomes_ready_fails(env, capsys):
    env.conf(ROLLING)
    env.monkeypatch.setattr(env.sc, "ROLLING_RESTART_TIMEOUT", 0.5)
    env.master(delay=None)
    with pytest.raises(SystemExit) as e:
        env.restart()
    assert e.value.code == 1
    assert "django-workers.ready" in capsys.readouterr().err


def test_clients_are_told_to_reload_unless_skipped(env, monkeypatch):
    env.conf("")
    fake = env.tmp / "deploy" / "scripts" / "reload-clients"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\necho \"$*\" >> {env.tmp}/reloads\n")
    fake.chmod(0o755)
    monkeypatch.setattr(env.sc, "DEPLOY_DIR", str(env.tmp / "deploy"))
    monkeypatch.setattr(sys, "argv", ["restart-server", "--skip-checks"])
    assert env.sc.restart_main() == 0
    assert (env.tmp / "reloads").read_text() == "--background\n"
    assert env.restart()[0] == 0  # --skip-client-reloads
    assert (env.tmp / "reloads").read_text() == "--background\n"


def fake_django_wsgi(monkeypatch):
    """Django's WSGI handler stand-in: the ready file is what is tested."""
    module = types.ModuleType("django.core.wsgi")
    module.get_wsgi_application = lambda: object()
    monkeypatch.setitem(sys.modules, "django.core.wsgi", module)


@pytest.mark.parametrize("worker_id, writes", [(1, False), (2, False), (3, True)])
def test_wsgi_last_worker_writes_ready_file(tmp_path, monkeypatch, worker_id, writes):
    fake_uwsgi = types.SimpleNamespace(worker_id=lambda: worker_id, numproc=3)
    monkeypatch.setitem(sys.modules, "uwsgi", fake_uwsgi)
    monkeypatch.setattr(sys, "path", list(sys.path))
    fake_django_wsgi(monkeypatch)
    monkeypatch.setenv("ZULIP_STATE_DIR", str(tmp_path))
    load(os.path.join(SRC, "zproject", "wsgi.py"), "wsgi_under_test")
    assert (tmp_path / "django-workers.ready").exists() == writes
    assert not [p for p in os.listdir(tmp_path) if ".tmp." in p]


def test_wsgi_outside_uwsgi_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    fake_django_wsgi(monkeypatch)
    monkeypatch.setitem(sys.modules, "uwsgi", None)  # import uwsgi -> ImportError
    monkeypatch.setenv("ZULIP_STATE_DIR", str(tmp_path))
    load(os.path.join(SRC, "zproject", "wsgi.py"), "wsgi_under_test")
    assert os.listdir(tmp_path) == []


def test_10x_restarts_zulip_tus_with_the_workers(env):
    env.conf("")
    env.release("10.0")
    env.monkeypatch.setenv("FAKE_TUS", "RUNNING")
    rc, _ = env.restart()
    assert rc == 0
    calls = env.calls()
    assert calls.index("restart zulip-workers:zulip_events") < calls.index("restart zulip-tus") \
        < calls.index("restart zulip-tornado") < calls.index("restart zulip-django")


def test_10x_starts_a_stopped_zulip_tus(env):
    env.conf("")
    env.release("10.1")
    env.monkeypatch.setenv("FAKE_TUS", "FATAL")
    assert env.restart()[0] == 0
    assert "start zulip-tus" in env.calls() and "restart zulip-tus" not in env.calls()


def test_10x_restart_fails_without_zulip_tus(env, capsys):
    """Zulip 10's restart-server restarts zulip-tus unconditionally."""
    env.conf("")
    env.release("10.0")
    with pytest.raises(SystemExit) as e:
        env.restart()
    assert e.value.code == 1
    assert "start zulip-tus" in env.calls()
    assert "zulip-tus: ERROR (no such process)" in capsys.readouterr().err
    # --less-graceful fails at its stop, before anything else is stopped.
    with pytest.raises(SystemExit):
        env.restart("--less-graceful")
    assert env.calls()[-1] == "stop zulip-workers:zulip_events zulip-tus"


def test_10x_less_graceful_stops_zulip_tus_with_the_workers(env):
    env.conf("")
    env.release("10.0")
    env.monkeypatch.setenv("FAKE_TUS", "RUNNING")
    assert env.restart("--less-graceful")[0] == 0
    calls = env.calls()
    assert calls.index("stop zulip-workers:zulip_events zulip-tus") < calls.index("restart zulip-django") \
        < calls.index("start zulip-workers:zulip_events zulip-tus")


def test_10x_restart_of_a_stopped_server_is_a_start(env):
    """Nothing of Zulip runs: Zulip's restart-server starts what exists."""
    env.conf("")
    env.release("10.0")
    env.monkeypatch.setenv("FAKE_STATE", "STOPPED")
    assert env.restart()[0] == 0
    assert not any("zulip-tus" in call for call in env.calls())
    env.monkeypatch.setenv("FAKE_TUS", "STOPPED")
    assert env.restart()[0] == 0
    assert env.calls()[-1] == "start zulip-tus"


def test_9_4_leaves_zulip_tus_alone(env):
    env.conf("")
    env.monkeypatch.setenv("FAKE_TUS", "RUNNING")
    assert env.restart()[0] == 0
    assert env.restart("--less-graceful")[0] == 0
    assert env.sc.start_main() == 0 and env.sc.stop_main() == 0
    assert not any("zulip-tus" in call for call in env.calls())


def test_start_and_stop_server_handle_zulip_tus_if_it_exists(env):
    env.release("10.0")
    assert env.sc.start_main() == 0 and env.sc.stop_main() == 0
    assert not any("zulip-tus" in call for call in env.calls())
    env.monkeypatch.setenv("FAKE_TUS", "RUNNING")
    assert env.sc.start_main() == 0 and env.sc.stop_main() == 0
    calls = env.calls()
    assert "start zulip-tus" in calls and "stop zulip-tus" in calls
    assert calls.index("stop zulip-workers:zulip_events") < calls.index("stop zulip-tus")


@pytest.mark.parametrize("version", ["9.4", "10.0"])
def test_restarts_zulip_katex_after_the_workers(env, version):
    """Zulip >= 9.0: the optional KaTeX service, before Tornado and Django."""
    env.conf("")
    env.release(version)
    env.monkeypatch.setenv("FAKE_TUS", "RUNNING")
    env.monkeypatch.setenv("FAKE_KATEX", "RUNNING")
    assert env.restart()[0] == 0
    calls = env.calls()
    assert calls.index("restart zulip-workers:zulip_events") < calls.index("restart zulip-katex") \
        < calls.index("restart zulip-tornado") < calls.index("restart zulip-django")
    env.monkeypatch.setenv("FAKE_KATEX", "FATAL")
    assert env.restart()[0] == 0
    assert env.calls()[len(calls):].count("start zulip-katex") == 1


def test_zulip_katex_is_optional(env):
    """katex_server = false: no zulip-katex program, nothing fails."""
    env.conf("")
    env.release("10.1")
    env.monkeypatch.setenv("FAKE_TUS", "RUNNING")
    assert env.restart()[0] == 0
    assert env.restart("--less-graceful")[0] == 0
    assert env.sc.start_main() == 0 and env.sc.stop_main() == 0
    assert not any("zulip-katex" in call for call in env.calls())


def test_less_graceful_and_start_stop_handle_zulip_katex(env):
    env.conf("")
    env.monkeypatch.setenv("FAKE_KATEX", "RUNNING")
    assert env.restart("--less-graceful")[0] == 0
    calls = env.calls()
    assert calls.index("stop zulip-workers:zulip_events zulip-katex") < calls.index("restart zulip-django") \
        < calls.index("start zulip-workers:zulip_events zulip-katex")
    assert env.sc.start_main() == 0 and env.sc.stop_main() == 0
    assert "start zulip-katex" in env.calls() and "stop zulip-katex" in env.calls()
