# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from django.core.management.base import BaseCommand

from zerver.models import Realm

ROW = "{:<5} {:<20} {!s:<30} {:<50}"


class Command(BaseCommand):
    help = "List the realms (organizations) of this server, as Zulip's list_realms does."

    def handle(self, *args, **options):
        # Zulip prints this header even when there is no realm at all.
        print(ROW.format("id", "string_id", "name", "domain"))
        print(ROW.format("--", "---------", "----", "------"))
        for realm in Realm.objects.order_by("id"):
            print(ROW.format(realm.id, realm.string_id or "''", realm.name, realm.url))
