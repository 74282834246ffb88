# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from django.core.management.base import BaseCommand

from zerver import services
from zerver.models import UserProfile


class Command(BaseCommand):
    help = "Load the active users into memcached."

    def add_arguments(self, parser):
        parser.add_argument("--automated", action="store_true")
        parser.add_argument("--cache")

    def handle(self, *args, **options):
        count = 0
        for user_id, api_key in UserProfile.objects.filter(is_active=True).values_list("id", "api_key"):
            services.cache_set(f"zulip:user_profile_by_api_key:{api_key}", user_id)
            count += 1
        if not options["automated"]:
            print(f"Filled memcached with {count} user(s).")
