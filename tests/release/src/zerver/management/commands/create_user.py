# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from django.core.management.base import BaseCommand, CommandError

from zerver.management.commands.create_realm import add_create_user_args, create_user, read_password
from zerver.models import Realm


class Command(BaseCommand):
    help = "Create a user in an organization."

    def add_arguments(self, parser):
        parser.add_argument("-r", "--realm", dest="realm_id", default="")
        parser.add_argument("--this-user-has-accepted-the-tos", action="store_true")
        add_create_user_args(parser)

    def handle(self, *args, **options):
        realm = Realm.objects.filter(string_id=options["realm_id"]).first()
        if realm is None:
            raise CommandError(f"There is no realm with id '{options['realm_id']}'.")
        user = create_user(realm, options["email"], options["full_name"], read_password(options))
        print(f"User {user.email} created (user id {user.id}).")
