# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""WSGI entry point: uWSGI loads module=zproject.wsgi:application in each
worker after the fork (lazy-apps), from the chdir hook-post-fork made
(/home/zulip/deployments/current), so a chain reload loads a new deployment.

Under uWSGI, the last worker to load the application writes
/var/lib/zulip/django-workers.ready ($ZULIP_STATE_DIR overrides the
directory): scripts/restart-server waits for it after a chain reload, as
Zulip's does."""
import json
import os
import sys

_DEPLOY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _DEPLOY_DIR not in sys.path:
    sys.path.insert(0, _DEPLOY_DIR)
from scripts.lib.setup_path import setup_path  # noqa: E402

setup_path(in_process=True)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zproject.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()


def _mark_workers_ready():
    try:
        import uwsgi  # only importable inside uWSGI
    except ImportError:
        return
    if uwsgi.worker_id() != uwsgi.numproc:
        return  # a chain reload replaces workers 1..N in order: N is the last
    path = os.path.join(os.environ.get("ZULIP_STATE_DIR", "/var/lib/zulip"), "django-workers.ready")
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w") as f:
            json.dump({"pid": os.getpid(), "deployment": _DEPLOY_DIR, "workers": uwsgi.numproc}, f)
        os.replace(tmp, path)
    except OSError as e:  # never keep the worker from serving
        sys.stderr.write(f"cannot write {path}: {e}\n")


_mark_workers_ready()
