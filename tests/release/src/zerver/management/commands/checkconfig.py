# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zerver.checks import REQUIRED


class Command(BaseCommand):
    help = "Check that the required settings are set (Zulip's checkconfig)."

    def handle(self, *args, **options):
        for name, example in REQUIRED:
            value = getattr(settings, name, None)
            if not value or value == example:
                raise CommandError(f"Error: You must set {name} in /etc/zulip/settings.py.")
