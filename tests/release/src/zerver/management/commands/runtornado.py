# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from django.core.management.base import BaseCommand

from zerver import tornado_server


class Command(BaseCommand):
    help = "Run the real-time events server (a stand-in for Zulip's Tornado)."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:9800")
        parser.add_argument("--immediate-reloads", action="store_true")

    def handle(self, *args, **options):
        tornado_server.run(options["addrport"])
