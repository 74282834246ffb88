# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from zerver.models import Realm, Stream, UserProfile


def read_password(options):
    if options.get("password_file"):
        with open(options["password_file"]) as f:
            return f.read().rstrip("\n")
    return options.get("password")


def add_create_user_args(parser):
    parser.add_argument("email", metavar="<email>", nargs="?")
    parser.add_argument("full_name", metavar="<full name>", nargs="?")
    parser.add_argument("--password")
    parser.add_argument("--password-file")
    parser.add_argument("--automated", action="store_true")
    parser.add_argument("--no-automated", dest="automated", action="store_false")


def create_user(realm, email, full_name, password, role=UserProfile.ROLE_MEMBER):
    if not email or not full_name:
        raise CommandError("Both an email address and a full name are required (the test double never prompts).")
    if UserProfile.objects.filter(realm=realm, email__iexact=email).exists():
        raise CommandError("Email is already in use.")
    user = UserProfile(realm=realm, email=email, full_name=full_name, role=role)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


class Command(BaseCommand):
    help = "Create a new organization (realm) and its owner."

    def add_arguments(self, parser):
        parser.add_argument("realm_name")
        parser.add_argument("--string-id", default="")
        parser.add_argument("--allow-reserved-subdomain", action="store_true")
        add_create_user_args(parser)

    def handle(self, *args, **options):
        string_id = options["string_id"]
        if string_id == settings.SYSTEM_BOT_REALM and not options["allow_reserved_subdomain"]:
            raise CommandError(f"Subdomain '{string_id}' is reserved.")
        with transaction.atomic():
            if Realm.objects.filter(string_id=string_id).exists():
                raise CommandError(f"Subdomain '{string_id}' is already in use.")
            realm = Realm.objects.create(string_id=string_id, name=options["realm_name"])
            Stream.objects.create(realm=realm, name="general")
            user = create_user(realm, options["email"], options["full_name"], read_password(options),
                               UserProfile.ROLE_REALM_OWNER)
        print(f"Realm '{realm.name}' created at {realm.url}; owner {user.email} (user id {user.id}).")
