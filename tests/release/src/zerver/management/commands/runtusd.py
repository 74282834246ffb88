# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""`manage.py runtusd <listen> [<hooks_http>]` (10.x releases only: build.py
leaves it out of 9.x), as Zulip 10.0's
zerver/management/commands/runtusd.py: replaces itself with `tusd` (found on
PATH; /usr/local/bin/tusd in production) serving /api/v1/tus/ on <listen>
(a port, bound to 127.0.0.1, or address:port), its hooks sent to
<hooks_http>, by default http://127.0.0.1:<port>/api/internal/tusd where the
port is 80, or zulip.conf's [application_server] nginx_listen_port when
[application_server] http_only is true; the uploads go to LOCAL_FILES_DIR.
No maximum size is given to tusd: the pre-create hook enforces Zulip's.
Zulip runs tusd on S3 with the uploads bucket; the double has no S3 and
refuses."""
import os
import urllib.parse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zproject.config import get_config


class Command(BaseCommand):
    help = "Starts the tusd server (resumable uploads)."

    def add_arguments(self, parser):
        parser.add_argument("listen", help="[Port, or address:port, to bind HTTP server to]")
        local_port = 80
        if get_config("application_server", "http_only", False):
            local_port = int(get_config("application_server", "nginx_listen_port", "80"))
        parser.add_argument("hooks_http", nargs="?", default=f"http://127.0.0.1:{local_port}/api/internal/tusd",
                            help="[An HTTP endpoint to which hook events will be sent to]")

    def handle(self, *args, **options):
        listen = options["listen"]
        if listen.isdigit():
            host, port = "127.0.0.1", int(listen)
        else:
            parsed = urllib.parse.urlsplit("//" + listen)
            try:
                port = parsed.port
            except ValueError:
                port = None
            if port is None:
                raise CommandError(f"{listen!r} does not have a valid port number.")
            host = parsed.hostname or "127.0.0.1"
        if settings.LOCAL_UPLOADS_DIR is None:
            raise CommandError(
                "The test double does not implement the S3 upload backend: Zulip would run tusd with "
                f"-s3-bucket={settings.S3_AUTH_UPLOADS_BUCKET} (LOCAL_UPLOADS_DIR is not set).")
        tusd_args = [
            "tusd",
            "-base-path=/api/v1/tus/",
            f"-port={port}",
            f"-host={host}",
            "-behind-proxy",
            f"-hooks-http={options['hooks_http']}",
            "-hooks-http-forward-headers=Cookie,Authorization",
            "--hooks-enabled-events=pre-create,pre-finish",
            "-disable-download",
            "--show-startup-logs=false",
            f"-upload-dir={settings.LOCAL_FILES_DIR}",
        ]
        try:
            os.execvp("tusd", tusd_args)
        except FileNotFoundError:
            raise CommandError("tusd is not installed: no `tusd` on PATH (Zulip's Puppet links "
                               "/usr/local/bin/tusd to /srv/zulip-tusd-<version>/tusd)")
