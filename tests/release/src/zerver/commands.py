# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""Implementation of the manage.py subcommands."""
import argparse
import json
import logging
import sys

import version
from zproject.config import ConfigError, get_settings


def _load_settings():
    try:
        return get_settings()
    except ConfigError as e:
        sys.stderr.write(f"Configuration error: {e}\n")
        sys.exit(1)


def _read_password(path):
    if not path:
        return None
    with open(path) as f:
        return f.read().rstrip("\n")


def _db_error(e):
    sys.stderr.write(f"Database error: {e.__class__.__name__}: {str(e).strip()}\n")
    return 1


# ---------------------------------------------------------------- commands
def cmd_checkconfig(args):
    _load_settings()
    # Like Django's system checks, which import the URLconf and its views: a
    # release whose application cannot be loaded fails here, and so
    # restart-server stops before it restarts anything.
    try:
        import zproject.wsgi  # noqa: F401
    except Exception as e:
        sys.stderr.write(f"The application cannot be loaded: {e.__class__.__name__}: {e}\n")
        return 1
    return 0


def cmd_check(args):
    _load_settings()
    if args.database:
        from zerver import db

        try:
            db.query("SELECT 1")
        except Exception as e:
            return _db_error(e)
    print("System check identified no issues (0 silenced).")
    return 0


def cmd_migrate(args):
    _load_settings()
    from zerver import migrate

    try:
        ok = migrate.migrate(sys.stdout)
    except Exception as e:
        return _db_error(e)
    return 0 if ok else 1


def cmd_showmigrations(args):
    _load_settings()
    from zerver import migrate

    if args.app_label and any(a != "zerver" for a in args.app_label):
        sys.stderr.write(f"No installed app with label '{args.app_label[0]}'.\n")
        return 2
    try:
        print("\n".join(migrate.status_lines(include_unknown=False)))
    except Exception as e:
        return _db_error(e)
    return 0


def cmd_get_migration_status(args):
    _load_settings()
    from zerver import migrate

    try:
        if args.output == "json":
            applied = migrate.applied_migrations()
            print(json.dumps({
                "app": "zerver",
                "known": migrate.known_migrations(),
                "applied": applied,
                "unapplied": [m for m in migrate.known_migrations() if m not in applied],
                "applied_unknown": migrate.unknown_applied(),
            }, indent=2))
        else:
            print("\n".join(migrate.status_lines(include_unknown=True)))
    except Exception as e:
        return _db_error(e)
    return 0


def cmd_runtornado(args):
    _load_settings()
    from zerver import tornado_server

    return tornado_server.run(args.addrport)


def cmd_process_queue(args):
    _load_settings()
    from zerver import workers

    if args.multi_threaded:
        queues = args.multi_threaded
    elif args.all:
        queues = workers.QUEUES
    elif args.queue_name:
        queues = [args.queue_name]
    else:
        sys.stderr.write("process_queue: give --queue_name, --multi_threaded or --all\n")
        return 2
    return workers.run(queues, args.worker_num)


def cmd_fill_memcached_caches(args):
    _load_settings()
    from zerver import models

    try:
        count = models.fill_user_cache()
    except Exception as e:
        return _db_error(e)
    if not args.automated:
        print(f"Filled memcached with {count} user(s).")
    return 0


def cmd_create_realm(args):
    _load_settings()
    from zerver import models

    try:
        realm, user = models.create_realm(
            args.realm_name, args.string_id, args.email, args.full_name,
            _read_password(args.password_file),
        )
    except models.UserError as e:
        sys.stderr.write(f"Error: {e.msg}\n")
        return 1
    except Exception as e:
        return _db_error(e)
    print(f"Realm '{realm['name']}' (string id '{realm['string_id']}') created; "
          f"owner {user['email']} (user id {user['id']}).")
    return 0


def cmd_create_user(args):
    _load_settings()
    from zerver import models

    try:
        realm = models.get_realm(args.realm)
        if realm is None:
            sys.stderr.write(f"Error: there is no realm with string id '{args.realm}'.\n")
            return 1
        user = models.create_user(realm, args.email, args.full_name, _read_password(args.password_file))
    except models.UserError as e:
        sys.stderr.write(f"Error: {e.msg}\n")
        return 1
    except Exception as e:
        return _db_error(e)
    print(f"User {user['email']} created (user id {user['id']}).")
    return 0


def cmd_generate_realm_creation_link(args):
    settings = _load_settings()
    from zerver import models

    try:
        key = models.create_realm_creation_key()
    except Exception as e:
        return _db_error(e)
    print(f"https://{settings.EXTERNAL_HOST}/new/{key}")
    return 0


def cmd_list_realms(args):
    _load_settings()
    from zerver import models

    try:
        realms = models.list_realms()
    except Exception as e:
        return _db_error(e)
    for realm in realms:
        print(f"{realm['string_id']}\t{realm['name']}")
    return 0


def cmd_deliver_scheduled(args):
    """Long-running once-per-cluster daemons (deliver_scheduled_emails/messages).

    The double schedules nothing: it only proves the program runs, checking the
    database once a minute until supervisor stops it.
    """
    import signal
    import threading

    _load_settings()
    from zerver import db

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        try:
            db.query("SELECT 1")
        except Exception as e:
            logging.warning("%s: database unavailable: %s", args.command, e)
        stop.wait(60)
    return 0


def cmd_periodic(args):
    """The cron jobs of a Zulip server (analytics, digests, retention, ...).

    The double has none of that data: each job checks that it can reach the
    database, logs that it ran, and succeeds.
    """
    _load_settings()
    from zerver import db

    try:
        db.query("SELECT 1")
    except Exception as e:
        return _db_error(e)
    logging.info("%s: nothing to do in the test double", args.command)
    return 0


PERIODIC_JOBS = [
    "update_analytics_counts", "check_analytics_state", "promote_new_full_members",
    "send_zulip_update_announcements", "update_channel_recently_active_status",
    "soft_deactivate_users", "delete_old_unclaimed_attachments", "archive_messages",
    "enqueue_digest_emails", "clearsessions", "fetch_tor_exit_nodes",
]


def cmd_version(args):
    print(version.ZULIP_VERSION)
    return 0


# ---------------------------------------------------------------- parser
def build_parser():
    parser = argparse.ArgumentParser(
        prog="manage.py",
        description=f"Zulip test double {version.ZULIP_VERSION} (zulip.server collection tests)",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    sub.required = True

    def add(name, func, help_text):
        p = sub.add_parser(name, help=help_text)
        p.set_defaults(func=func)
        p.add_argument("--skip-checks", action="store_true", help="accepted for compatibility")
        p.add_argument("--verbosity", "-v", type=int, default=1)
        return p

    add("checkconfig", cmd_checkconfig, "validate settings and secrets")

    p = add("check", cmd_check, "check settings (and database with --database)")
    p.add_argument("--database", action="append")
    p.add_argument("--deploy", action="store_true")

    p = add("migrate", cmd_migrate, "apply database migrations")
    p.add_argument("--noinput", "--no-input", action="store_true")
    p.add_argument("app_label", nargs="?")

    p = add("showmigrations", cmd_showmigrations, "Django-format migration list")
    p.add_argument("app_label", nargs="*")

    p = add("get_migration_status", cmd_get_migration_status,
            "like showmigrations, plus migrations applied in the DB but unknown to this release")
    p.add_argument("--output", choices=["text", "json"], default="text")

    p = add("runtornado", cmd_runtornado, "run the events server")
    p.add_argument("addrport", nargs="?", default="127.0.0.1:9800")
    p.add_argument("--immediate-reloads", action="store_true")

    p = add("process_queue", cmd_process_queue, "run RabbitMQ queue worker(s)")
    p.add_argument("--queue_name")
    p.add_argument("--worker_num", type=int, default=0)
    p.add_argument("--all", action="store_true")
    p.add_argument("--multi_threaded", nargs="+", metavar="QUEUE")

    p = add("fill_memcached_caches", cmd_fill_memcached_caches, "load users into memcached")
    p.add_argument("--automated", action="store_true")
    p.add_argument("--cache")

    p = add("create_realm", cmd_create_realm, "create an organization and its owner")
    p.add_argument("realm_name")
    p.add_argument("email")
    p.add_argument("full_name")
    p.add_argument("--string-id", "--string_id", dest="string_id", default="")
    p.add_argument("--password-file")
    p.add_argument("--automated", action="store_true")

    p = add("create_user", cmd_create_user, "create a user")
    p.add_argument("email")
    p.add_argument("full_name")
    p.add_argument("--realm", "-r", default="")
    p.add_argument("--password-file")
    p.add_argument("--this-user-has-accepted-the-tos", action="store_true")

    add("generate_realm_creation_link", cmd_generate_realm_creation_link,
        "print a one-time organization creation link")
    add("list_realms", cmd_list_realms, "print 'string_id<TAB>name' per realm")
    add("deliver_scheduled_emails", cmd_deliver_scheduled, "deliver scheduled emails (daemon)")
    add("deliver_scheduled_messages", cmd_deliver_scheduled, "deliver scheduled messages (daemon)")
    for job in PERIODIC_JOBS:
        p = add(job, cmd_periodic, "periodic job (cron)")
        p.add_argument("-d", "--deactivate", action="store_true")
        p.add_argument("-f", "--for-real", action="store_true")
        p.add_argument("--automated", action="store_true")
    add("version", cmd_version, "print the release version")
    return parser


def main(argv):
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    return args.func(args)
