# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import ProgrammingError

from zerver.models import Realm, RealmCreationKey


class Command(BaseCommand):
    help = "Print a one-time link that creates a new organization."

    def handle(self, *args, **options):
        try:
            Realm.objects.first()
        except ProgrammingError:
            raise CommandError("The Zulip database does not appear to exist. Have you run initialize-database?")
        key = RealmCreationKey.objects.create(creation_key=secrets.token_hex(12)).creation_key
        self.stdout.write(self.style.SUCCESS("Please visit the following secure single-use link to register your "))
        self.stdout.write(self.style.SUCCESS("new Zulip organization:\033[0m"))
        self.stdout.write("")
        self.stdout.write(f"    \033[1;92m{settings.ROOT_DOMAIN_URI}/new/{key}\033[0m")
        self.stdout.write("")
