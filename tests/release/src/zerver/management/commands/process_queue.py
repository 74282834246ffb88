# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
import sys

from django.core.management.base import BaseCommand, CommandError

from zerver import workers


class Command(BaseCommand):
    help = "Run RabbitMQ queue workers."

    def add_arguments(self, parser):
        parser.add_argument("--queue_name")
        parser.add_argument("--worker_num", type=int, default=0)
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--multi_threaded", nargs="+", metavar="QUEUE")

    def handle(self, *args, **options):
        if options["multi_threaded"]:
            queues = options["multi_threaded"]
        elif options["all"]:
            queues = workers.QUEUES
        elif options["queue_name"]:
            queues = [options["queue_name"]]
        else:
            raise CommandError("give --queue_name, --multi_threaded or --all")
        sys.exit(workers.run(queues, options["worker_num"]))
