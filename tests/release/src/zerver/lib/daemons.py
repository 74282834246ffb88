# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""The once-per-cluster daemons and the cron jobs of a Zulip server.  The
double has none of their data: daemons check the database once a minute
until supervisor stops them; each cron job checks it can reach the database,
logs that it ran, and succeeds."""
import logging
import signal
import sys
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

logger = logging.getLogger("zulip.jobs")


def ping_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


class DaemonCommand(BaseCommand):
    help = "Deliver scheduled items (daemon)."

    def handle(self, *args, **options):
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.is_set():
            try:
                ping_database()
            except Exception as e:
                logger.warning("%s: database unavailable: %s", sys.argv[1] if len(sys.argv) > 1 else "daemon", e)
                close_old_connections()
            stop.wait(60)


class PeriodicCommand(BaseCommand):
    help = "A periodic job (cron)."

    def add_arguments(self, parser):
        parser.add_argument("-d", "--deactivate", action="store_true")
        parser.add_argument("-f", "--for-real", action="store_true")
        parser.add_argument("--automated", action="store_true")

    def handle(self, *args, **options):
        ping_database()
        logger.info("%s: nothing to do in the test double", sys.argv[1] if len(sys.argv) > 1 else "job")
