# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  Offline checks of the double's Django behaviour that
# needs no database: Zulip's system checks, the settings Zulip computes,
# the upload backend choice, request parsing, generate_secrets.py.
# (What needs PostgreSQL - migrations, showmigrations, list_realms,
# check-database-compatibility - is exercised by the molecule scenarios.)
import configparser
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
    def unpack(version="10.1", settings=None, secrets=SECRETS, conf=""):
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
                   ZULIP_CONF=str(tmp_path / "zulip.conf"), DJANGO_SETTINGS_MODULE="zproject.settings")

        def run(code, *argv):
            prelude = "import sys; sys.path.insert(0, '.'); import django; django.setup()\n"
            return subprocess.run([sys.executable, "-c", prelude + code, *argv], cwd=tree, env=env,
                                  capture_output=True, text=True)

        def manage(*argv):
            return run("from django.core.management import execute_from_command_line\n"
                       "execute_from_command_line(['manage.py', *sys.argv[1:]])", *argv)

        def script(path, *argv):
            return subprocess.run([sys.executable, path, *argv], cwd=tree, env=env, capture_output=True, text=True)

        return types.SimpleNamespace(run=run, manage=manage, script=script, secrets=tmp_path / "zulip-secrets.conf")

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
