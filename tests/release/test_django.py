# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  Offline checks of the double's Django behaviour that
# needs no database: Zulip's system checks, the settings Zulip computes,
# the upload backend choice, request parsing, generate_secrets.py, and (10.x)
# runtusd's tusd command line and the tusd hook endpoint.
# (What needs PostgreSQL - migrations, showmigrations, list_realms,
# check-database-compatibility - is exercised by the molecule scenarios.)
import configparser
import json
import os
import subprocess
import sys
import tarfile
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DIST = os.path.join(HERE, "dist")
GOOD = {
    "EXTERNAL_HOST": "chat.lab.example",
    "ZULIP_ADMINISTRATOR": "admin@lab.example",
    "AUTHENTICATION_BACKENDS": ("zproject.backends.EmailAuthBackend",),
    "LOCAL_UPLOADS_DIR": "/home/zulip/uploads",
}
SECRETS = "[secrets]\nsecret_key = a\nshared_secret = b\navatar_salt = c\nrabbitmq_password = d\n"


@pytest.fixture(scope="session", autouse=True)
def built():
    subprocess.run(["bash", os.path.join(HERE, "build.sh")], check=True, capture_output=True)


@pytest.fixture
def release(tmp_path_factory):
    """An unpacked release with its config files beside it; run(code)
    runs Python in it with Django set up (as root: manage.py's own root
    check is bypassed by calling Django directly)."""
    def unpack(version="10.1", settings=None, secrets=SECRETS, conf="", extra_env=None):
        tmp_path = tmp_path_factory.mktemp("release")
        with tarfile.open(os.path.join(DIST, f"zulip-server-{version}.tar.gz")) as tar:
            tar.extractall(tmp_path, filter="data")
        tree = tmp_path / f"zulip-server-{version}"
        values = dict(GOOD, **(settings or {}))
        (tmp_path / "settings.py").write_text(
            "".join(f"{k} = {v!r}\n" for k, v in values.items() if v is not None))
        (tree / "zproject" / "prod_settings.py").symlink_to(tmp_path / "settings.py")
        (tmp_path / "zulip-secrets.conf").write_text(secrets)
        (tmp_path / "zulip.conf").write_text(conf)
        # Debian's python3-pylibmc on the servers; nothing connects here.
        (tmp_path / "stubs").mkdir()
        (tmp_path / "stubs" / "pylibmc.py").write_text("class NotFound(Exception):\n    pass\n\n\nclass Client:\n    def __init__(self, *a, **k):\n        pass\n")
        env = dict(os.environ, PYTHONPATH=str(tmp_path / "stubs"), ZULIP_SECRETS_CONF=str(tmp_path / "zulip-secrets.conf"),
                   ZULIP_CONF=str(tmp_path / "zulip.conf"), DJANGO_SETTINGS_MODULE="zproject.settings",
                   **(extra_env or {}))

        def run(code, *argv):
            prelude = "import sys; sys.path.insert(0, '.'); import django; django.setup()\n"
            return subprocess.run([sys.executable, "-c", prelude + code, *argv], cwd=tree, env=env, timeout=60,
                                  capture_output=True, text=True)

        def manage(*argv):
            return run("from django.core.management import execute_from_command_line\n"
                       "execute_from_command_line(['manage.py', *sys.argv[1:]])", *argv)

        def script(path, *argv):
            return subprocess.run([sys.executable, path, *argv], cwd=tree, env=env, capture_output=True, text=True)

        return types.SimpleNamespace(run=run, manage=manage, script=script, secrets=tmp_path / "zulip-secrets.conf",
                                     tree=tree)

    return unpack


def test_zulips_checks_pass_a_complete_configuration(release):
    result = release().manage("check")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("settings", "error"), [
    ({"EXTERNAL_HOST": "zulipchat"}, "(zulip.E002) EXTERNAL_HOST (zulipchat) does not contain a domain part"),
    ({"EXTERNAL_HOST": "chat.lab.example."}, "(zulip.E002) EXTERNAL_HOST (chat.lab.example.) does not validate"),
    ({"EXTERNAL_HOST": "zulip.example.com"}, "(zulip.E001) You must set EXTERNAL_HOST"),
    ({"AUTHENTICATION_BACKENDS": None}, "(zulip.E001) You must set AUTHENTICATION_BACKENDS"),
    ({"ZULIP_ADMINISTRATOR": None}, "(zulip.E001) You must set ZULIP_ADMINISTRATOR"),
])
def test_zulips_checks_refuse_what_zulip_refuses(release, settings, error):
    tree = release(settings=settings)
    for command in (["check"], ["migrate", "--noinput"], ["list_realms"]):
        result = tree.manage(*command)
        assert result.returncode == 1, command
        assert error in result.stderr, result.stderr
    # --skip-checks skips them, as in Django (list_realms then needs the database).
    assert error not in tree.manage("list_realms", "--skip-checks").stderr


def test_a_missing_mandatory_secret_stops_everything(release):
    result = release(secrets="[secrets]\nsecret_key = a\n").manage("check")
    assert result.returncode == 1 and "Mandatory secret 'shared_secret'" in result.stderr


DATABASES = "from django.conf import settings; d = settings.DATABASES['default']; print(repr((d['HOST'], d['OPTIONS'])))"


def test_remote_database_gets_sslmode_only(release):
    """Only host, port, password and sslmode reach libpq: no setting names the
    CA, which libpq reads from ~/.postgresql/root.crt."""
    tree = release(settings={"REMOTE_POSTGRES_HOST": "db1.lab.example,db2.lab.example",
                             "REMOTE_POSTGRES_SSLROOTCERT": "/etc/zulip/ca.crt"},
                   secrets=SECRETS + "postgres_password = p\n")
    host, options = eval(tree.run(DATABASES).stdout)
    assert host == "db1.lab.example,db2.lab.example"
    assert options == {"connect_timeout": 2, "target_session_attrs": "read-write", "sslmode": "verify-full"}


def test_local_database_uses_the_socket(release):
    host, options = eval(release().run(DATABASES).stdout)
    assert host == "" and "sslmode" not in options


def test_without_local_uploads_dir_zulip_uses_s3(release):
    code = ("from zerver.lib.upload import get_upload_backend\n"
            "b = get_upload_backend(); print(type(b).__name__)\n"
            "try:\n    b.write(1, 'a.txt', b'x')\nexcept Exception as e:\n    print(e)")
    assert release().run(code.replace("print(e)", "pass")).stdout.split() == ["LocalUploadBackend"]
    out = release(settings={"LOCAL_UPLOADS_DIR": None}).run(code).stdout
    assert out.startswith("S3UploadBackend\nS3_AUTH_UPLOADS_BUCKET is not set")


def test_request_bodies_parsed_urlencoded_and_multipart(release):
    """The Python client posts urlencoded, zulip-js multipart: both reach the view."""
    code = ("from django.test import RequestFactory\nfrom zerver.views import json_param, param\n"
            "rf = RequestFactory()\n"
            "for r in (rf.post('/', {'to': '[1,2]', 'content': 'hi'}),\n"
            "          rf.post('/', 'to=%5B1%2C2%5D&content=hi', content_type='application/x-www-form-urlencoded')):\n"
            "    print(json_param(r, 'to'), param(r, 'content'))")
    assert release().run(code).stdout.splitlines() == ["[1, 2] hi", "[1, 2] hi"]


def secrets_of(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return dict(parser.items("secrets"))


def test_generate_secrets_only_appends(release):
    tree = release(version="10.1", secrets="[secrets]\nsecret_key = keep-me\nmemcached_password = m\nredis_password = r\n")
    result = tree.script("scripts/setup/generate_secrets.py", "--production")
    assert result.returncode == 0, result.stderr
    assert "Generated new secrets" in result.stdout
    text = tree.secrets.read_text()
    assert text.startswith("[secrets]\nsecret_key = keep-me\nmemcached_password = m\nredis_password = r\n")
    made = secrets_of(tree.secrets)
    assert {"avatar_salt", "camo_key", "rabbitmq_password", "shared_secret", "zulip_org_id", "zulip_org_key",
            "double_10x_key"} <= set(made)
    assert len(made["shared_secret"]) == 64 and len(made["camo_key"]) == 64
    again = tree.script("scripts/setup/generate_secrets.py", "--production")
    assert "No new secrets to generate" in again.stdout
    assert tree.secrets.read_text() == text


def test_only_10x_adds_its_secret(release):
    tree = release(version="9.4", secrets="")
    assert tree.script("scripts/setup/generate_secrets.py", "--production").returncode == 0
    made = secrets_of(tree.secrets)
    assert "double_10x_key" not in made and "secret_key" in made


def test_image_links_are_shown_through_camo_when_camo_uri_is_set(release):
    """As Zulip's zerver/lib/camo.py: CAMO_URI + HMAC-SHA1(camo_key, url) in hex
    + the URL in hex; without CAMO_URI the image is linked directly."""
    import hashlib
    import hmac

    url = "https://images.example/cat.png"
    code = "from zerver.views import render; print(render(sys.argv[1]))"
    camo = release(settings={"CAMO_URI": "/external_content/"}, secrets=SECRETS + "camo_key = k\n").run(code, url)
    digest = hmac.new(b"k", url.encode(), hashlib.sha1).hexdigest()
    assert f'<img src="/external_content/{digest}/{url.encode().hex()}">' in camo.stdout, camo.stderr
    direct = release().run(code, url)
    assert f'<img src="{url}">' in direct.stdout, direct.stderr


# ---------------------------------------------------------------- tusd (10.x)
FAKE_TUSD = "import os, sys\nos.environ['PATH'] = sys.argv[1] + ':' + os.environ['PATH']\n"
RUNTUSD = FAKE_TUSD + ("from django.core.management import execute_from_command_line\n"
                       "execute_from_command_line(['manage.py', 'runtusd', *sys.argv[2:]])")


@pytest.fixture
def fake_tusd(tmp_path):
    """A `tusd` on PATH that prints its arguments, one a line."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "tusd").write_text("#!/bin/sh\nprintf '%s\\n' \"$@\"\n")
    (bindir / "tusd").chmod(0o755)
    return str(bindir)


def test_runtusd_execs_tusd_with_zulips_flags(release, fake_tusd):
    """Zulip 10.0's runtusd: a bare port binds 127.0.0.1; hooks to nginx on 80."""
    result = release().run(RUNTUSD, fake_tusd, "9900")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "-base-path=/api/v1/tus/", "-port=9900", "-host=127.0.0.1", "-behind-proxy",
        "-hooks-http=http://127.0.0.1:80/api/internal/tusd", "-hooks-http-forward-headers=Cookie,Authorization",
        "--hooks-enabled-events=pre-create,pre-finish", "-disable-download", "--show-startup-logs=false",
        "-upload-dir=/home/zulip/uploads/files"]
    args = release().run(RUNTUSD, fake_tusd, "0.0.0.0:9901", "http://127.0.0.1:8000/api/internal/tusd").stdout
    assert {"-port=9901", "-host=0.0.0.0", "-hooks-http=http://127.0.0.1:8000/api/internal/tusd"} \
        <= set(args.splitlines())


def test_runtusd_hooks_follow_http_only_nginx_port(release, fake_tusd):
    tree = release(conf="[application_server]\nhttp_only = true\nnginx_listen_port = 8080\n")
    assert "-hooks-http=http://127.0.0.1:8080/api/internal/tusd" in tree.run(RUNTUSD, fake_tusd, "9900").stdout
    tree = release(conf="[application_server]\nnginx_listen_port = 8080\n")
    assert "-hooks-http=http://127.0.0.1:80/api/internal/tusd" in tree.run(RUNTUSD, fake_tusd, "9900").stdout


def test_runtusd_refuses_what_it_cannot_run(release, fake_tusd, tmp_path):
    result = release().run(RUNTUSD, fake_tusd, "localhost")
    assert result.returncode == 1 and "does not have a valid port number" in result.stderr
    result = release(settings={"LOCAL_UPLOADS_DIR": None}).run(RUNTUSD, fake_tusd, "9900")
    assert result.returncode == 1 and "does not implement the S3 upload backend" in result.stderr
    result = release().run(RUNTUSD, str(tmp_path / "nothing-here"), "9900")
    # Without tusd on PATH (as Zulip's os.execvpe, it fails).
    assert result.returncode == 1 and "tusd" in result.stderr
    result = release(version="9.4").run(RUNTUSD, fake_tusd, "9900")
    assert result.returncode == 1 and "Unknown command: 'runtusd'" in result.stderr


ROUTE = ("from django.urls import resolve, Resolver404\n"
         "try:\n    view = resolve('/api/internal/tusd').func\n"
         "    print(view.__module__, view.__name__, getattr(view, 'csrf_exempt', False))\n"
         "except Resolver404:\n    print('404')")


def test_the_tusd_hook_route_is_10x_only(release):
    assert release().run(ROUTE).stdout.split() == ["zerver.tusd", "handle_tusd_hook", "True"]
    assert release(version="9.4").run(ROUTE).stdout.split() == ["404"]


def hook_payload(hook_type="pre-create", size=10, deferred=False, filename="cat (1).png"):
    return {"Type": hook_type, "Event": {
        "Upload": {"ID": "", "Size": size, "SizeIsDeferred": deferred, "Offset": 0,
                   "MetaData": {"filename": filename, "filetype": "image/png"}, "IsPartial": False,
                   "IsFinal": False, "PartialUploads": None, "Storage": None},
        "HTTPRequest": {"Method": "POST", "URI": "/api/v1/tus/", "RemoteAddr": "127.0.0.1:40000",
                        "Header": {"Tus-Resumable": ["1.0.0"]}}}}


# Posts each payload (JSON, one an argument) to the hook through Django's
# test client (middleware and URLs), from REMOTE_ADDR; a stand-in user of
# realm 7 when STUB_USER is set (the API key lookup needs the database).
HOOK = """import json, types
from django.test import Client
import zerver.tusd
if os.environ.get('STUB_USER'):
    zerver.tusd.authenticate_user = lambda request: types.SimpleNamespace(realm_id=7)
for payload in sys.argv[2:]:
    r = Client().post('/api/internal/tusd', payload, content_type='application/json', HTTP_HOST='127.0.0.1',
                      REMOTE_ADDR=sys.argv[1])
    print(json.dumps([r.status_code, r['Content-Type'], r.content.decode()]))
"""


def post_hook(tree, remote, *payloads, stub_user=False):
    code = "import os, sys\n" + ("os.environ['STUB_USER'] = '1'\n" if stub_user else "") + HOOK
    result = tree.run(code, remote, *[json.dumps(p) if not isinstance(p, str) else p for p in payloads])
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_the_tusd_hook_is_for_local_tusd_only(release):
    (status, _, body), = post_hook(release(), "10.1.2.3", hook_payload())
    assert status == 403 and json.loads(body)["code"] == "ACCESS_DENIED"
    (status, _, _), = post_hook(release(), "127.0.0.1", "{not json")
    assert status == 400


def test_the_tusd_hook_rejects_unauthenticated_uploads(release):
    """Always HTTP 200: tusd reads the refusal from the JSON."""
    for remote in ("127.0.0.1", "::1"):
        (status, kind, body), = post_hook(release(), remote, hook_payload())
        assert (status, kind) == (200, "application/json")
        answer = json.loads(body)
        assert answer["RejectUpload"] is True and answer["HttpResponse"]["StatusCode"] == 401
        assert json.loads(answer["HttpResponse"]["Body"]) == {"message": "Unauthenticated upload"}


def test_the_pre_create_hook_checks_the_size_and_names_the_file(release):
    answers = post_hook(release(), "127.0.0.1", hook_payload(), hook_payload(deferred=True, size=0),
                        hook_payload(size=25 * 1024 * 1024 + 1), hook_payload(filename="café ü.png"),
                        hook_payload(hook_type="post-finish"), stub_user=True)
    path_id = json.loads(answers[0][2])["ChangeFileInfo"]["ID"]
    realm, rand, token, name = path_id.split("/")
    assert (realm, name) == ("7", "cat-1.png") and int(rand, 16) < 256 and len(token) == 24
    for (status, _, body), code in ((answers[1], 411), (answers[2], 413)):
        answer = json.loads(body)
        assert status == 200 and answer["RejectUpload"] is True and answer["HttpResponse"]["StatusCode"] == code
    assert "25 MiB" in json.loads(json.loads(answers[2][2])["HttpResponse"]["Body"])["message"]
    # tusd's upload IDs are ASCII: the name is sanitized strictly.
    assert json.loads(answers[3][2])["ChangeFileInfo"]["ID"].endswith("/caf-.png")
    assert answers[4][0] == 404


# The tusd stand-in and the release's hook, together: Django served by
# wsgiref, a stand-in user (realm 7) and Attachment rows recorded instead of
# stored (no database here, nor transactions); tusd with runtusd's flags.
TOGETHER = """import base64, contextlib, http.client, json, os, socket, subprocess, threading, time, types
from wsgiref.simple_server import WSGIRequestHandler, make_server
from django.core.wsgi import get_wsgi_application
import zerver.tusd
zerver.tusd.authenticate_user = lambda request: types.SimpleNamespace(realm_id=7)
created = []
record = lambda owner, **fields: created.append(fields)
zerver.tusd.Attachment = types.SimpleNamespace(objects=types.SimpleNamespace(create=record))
zerver.tusd.transaction = types.SimpleNamespace(atomic=contextlib.nullcontext)


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


django = make_server('127.0.0.1', 0, get_wsgi_application(), handler_class=Quiet)
threading.Thread(target=django.serve_forever, daemon=True).start()
with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]


def call(method, path, body=b'', **headers):
    conn = http.client.HTTPConnection('127.0.0.1', port)
    conn.request(method, path, body, {'Tus-Resumable': '1.0.0', **headers})
    r = conn.getresponse()
    return [r.status, dict(r.headers), r.read().decode()]


def uploads():
    for _ in range(200):
        try:
            socket.create_connection(('127.0.0.1', port)).close()
            break
        except OSError:
            time.sleep(0.05)
    meta = ('filename ' + base64.b64encode(b'notes.txt').decode() + ','
            + 'filetype ' + base64.b64encode(b'text/plain').decode())
    created_answer = call('POST', '/api/v1/tus/', **{'Upload-Length': '5', 'Upload-Metadata': meta,
                                                      'Authorization': 'Basic eDp5', 'X-Forwarded-Proto': 'https',
                                                      'X-Forwarded-Host': 'chat.lab.example'})
    location = created_answer[1]['Location']
    patch = call('PATCH', location.split('chat.lab.example', 1)[1], b'hello', **{
        'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream'})
    too_big = call('POST', '/api/v1/tus/', **{'Upload-Length': str(26 * 1024 * 1024), 'Upload-Metadata': meta})
    return {'created': created_answer, 'patch': patch, 'too_big': too_big, 'attachments': created}


tusd = subprocess.Popen([sys.argv[1], '-base-path=/api/v1/tus/', f'-port={port}', '-host=127.0.0.1', '-behind-proxy',
                         f'-hooks-http=http://127.0.0.1:{django.server_port}/api/internal/tusd',
                         '-hooks-http-forward-headers=Cookie,Authorization',
                         '--hooks-enabled-events=pre-create,pre-finish', '-disable-download',
                         '--show-startup-logs=false', '-hooks-http-retry=1', f'-upload-dir={sys.argv[2]}'],
                        stdout=subprocess.DEVNULL)
try:
    print(json.dumps(uploads()))
finally:
    tusd.terminate()
    tusd.wait()
"""


def test_tusd_and_the_hook_together(release, tmp_path):
    tree = release(settings={"LOCAL_UPLOADS_DIR": str(tmp_path / "uploads")})
    result = tree.run(TOGETHER, os.path.join(HERE, "deps", "tusd", "tusd"), str(tmp_path / "uploads" / "files"))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    status, headers, _ = out["created"]
    assert status == 201
    path_id = headers["Location"].split("https://chat.lab.example/api/v1/tus/", 1)[1]
    assert path_id.startswith("7/") and path_id.endswith("/notes.txt")
    status, headers, body = out["patch"]
    assert status == 200 and headers["Content-Type"] == "application/json", (body, result.stderr)
    assert json.loads(body) == {"url": f"/user_uploads/{path_id}", "filename": "notes.txt"}
    assert (tmp_path / "uploads" / "files" / path_id).read_bytes() == b"hello"
    attachment, = out["attachments"]
    assert attachment["path_id"] == path_id and attachment["size"] == 5 and attachment["realm_id"] == 7
    assert attachment["content_type"] == "text/plain" and attachment["file_name"] == "notes.txt"
    status, headers, body = out["too_big"]
    assert status == 413 and "25 MiB" in json.loads(body)["message"]


def test_a_failed_queue_event_is_recorded_as_zulip_records_it(release, tmp_path):
    # zerver/worker/base.py: "<asctime>\t<JSON list of the events>" appended to QUEUE_ERROR_DIR/<queue>.errors.
    r = release()
    done = r.run("from django.conf import settings; from zerver import workers\n"
                 f"settings.QUEUE_ERROR_DIR = {str(tmp_path / 'queue_error')!r}\n"
                 "workers.record_error('user_activity', b'{\"query\": \"x\"}')\n"
                 "workers.record_error('user_activity', b'not json')\n")
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "queue_error" / "user_activity.errors").read_text().splitlines()
    assert [json.loads(line.split("\t")[1]) for line in lines] == [[{"query": "x"}], ["not json"]]
    assert all(len(line.split("\t")[0].split()) == 5 for line in lines)  # time.asctime()
