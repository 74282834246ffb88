# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  The Node.js stand-in (deps/node/, dist/deps/node-*.tar.xz),
# the KaTeX server and CLI bundles it runs (webpack-bundles/katex_server.js,
# katex-cli.js, as Zulip >= 9.0 ships them), and scripts/lib/install-node.
import hashlib
import os
import platform
import re
import shutil
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DIST = os.path.join(HERE, "dist")
NODE_ARCH = {"x86_64": "x64", "aarch64": "arm64"}.get(platform.machine(), "x64")
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="session", autouse=True)
def built():
    subprocess.run(["bash", os.path.join(HERE, "build.sh")], check=True, capture_output=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def node_root(tmp_path_factory):
    """Node.js 22.14.0 (the 10.x pin) unpacked as install-node unpacks it."""
    root = tmp_path_factory.mktemp("zulip-node")
    subprocess.run(["tar", "-xJf", os.path.join(DIST, "deps", f"node-v22.14.0-linux-{NODE_ARCH}.tar.xz"),
                    "--strip-components=1", "-C", str(root)], check=True)
    return root


@pytest.fixture(scope="session")
def bundles(tmp_path_factory):
    """prod-static/serve/webpack-bundles of the 10.1 tarball."""
    dest = tmp_path_factory.mktemp("bundles")
    with tarfile.open(os.path.join(DIST, "zulip-server-10.1.tar.gz")) as tar:
        for name in ("katex_server.js", "katex-cli.js"):
            member = tar.getmember(f"zulip-server-10.1/prod-static/serve/webpack-bundles/{name}")
            (dest / name).write_bytes(tar.extractfile(member).read())
    return dest


def start_katex(node_root, bundles, port, secret="s3cret"):
    env = dict(os.environ, NODE_ENV="production")
    env.pop("SHARED_SECRET", None)
    if secret is not None:
        env["SHARED_SECRET"] = secret
    proc = subprocess.Popen([str(node_root / "bin" / "node"), str(bundles / "katex_server.js"), str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc


@pytest.fixture
def katex(node_root, bundles):
    port = free_port()
    proc = start_katex(node_root, bundles, port)
    assert proc.stdout.readline() == f"Server started on http://localhost:{port}\n"
    yield port
    proc.terminate()
    proc.wait(10)


def post(port, **form):
    data = urllib.parse.urlencode(form).encode()
    try:
        with NO_PROXY.open(f"http://localhost:{port}/", data=data, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_node_stand_in_version_and_missing_script(node_root, tmp_path):
    node = str(node_root / "bin" / "node")
    assert subprocess.run([node, "--version"], capture_output=True, text=True).stdout == "v22.14.0\n"
    missing = subprocess.run([node, str(tmp_path / "nope.js")], capture_output=True, text=True)
    assert missing.returncode == 1 and f"Error: Cannot find module '{tmp_path / 'nope.js'}'" in missing.stderr
    (tmp_path / "args.js").write_text("import sys\nprint(sys.argv[1:])\n")
    assert subprocess.run([node, str(tmp_path / "args.js"), "a", "b"], capture_output=True,
                          text=True).stdout == "['a', 'b']\n"


def test_corepack_enable_links_pnpm(node_root, tmp_path):
    """As install-node runs it: through a link in the install directory."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "corepack").symlink_to(node_root / "bin" / "corepack")
    for _ in range(2):  # an existing pnpm is replaced
        subprocess.run([str(tmp_path / "bin" / "corepack"), "enable"], check=True,
                       env=dict(os.environ, COREPACK_DEFAULT_TO_LATEST="0"))
    pnpm = tmp_path / "bin" / "pnpm"
    assert os.path.samefile(pnpm, node_root / "lib" / "node_modules" / "corepack" / "dist" / "pnpm.js")
    assert not os.readlink(pnpm).startswith("/")  # relative, as corepack's
    assert sorted(os.listdir(tmp_path / "bin")) == ["corepack", "pnpm"]


def test_katex_server_renders(katex):
    status, body = post(katex, content="x^2 < y", is_display="false", shared_secret="s3cret")
    assert status == 200 and body.startswith('<span class="katex">')
    assert '<annotation encoding="application/x-tex">x^2 &lt; y</annotation>' in body
    status, body = post(katex, content="x^2", is_display="true", shared_secret="s3cret")
    assert status == 200 and body.startswith('<span class="katex-display"><span class="katex">')


def test_katex_server_refuses(katex):
    assert post(katex, content="x", is_display="false", shared_secret="wrong") == \
        (403, "Invalid 'shared_secret' argument")
    assert post(katex, content="x", is_display="false")[0] == 403
    assert post(katex, is_display="false", shared_secret="s3cret") == (400, "Invalid 'content' argument")
    status, body = post(katex, content=r"\frac{a}{b", is_display="false", shared_secret="s3cret")
    assert status == 400 and body.startswith("KaTeX parse error")
    with NO_PROXY.open(f"http://127.0.0.1:{katex}/metrics", timeout=5) as r:
        assert r.status == 200 and "katex_" in r.read().decode()
    with pytest.raises(urllib.error.HTTPError) as e:
        NO_PROXY.open(f"http://127.0.0.1:{katex}/other", timeout=5)
    assert e.value.code == 404


def test_katex_server_needs_its_secret_and_a_port(node_root, bundles):
    proc = start_katex(node_root, bundles, free_port(), secret=None)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 1 and out == "No SHARED_SECRET set!\n"
    proc = start_katex(node_root, bundles, "port")
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 1 and "Invalid port" in out


def test_katex_cli(node_root, bundles):
    def cli(tex, *args):
        return subprocess.run([str(node_root / "bin" / "node"), str(bundles / "katex-cli.js"), *args],
                              input=tex, capture_output=True, text=True)

    inline = cli("a_1")
    assert inline.returncode == 0 and inline.stdout.startswith('<span class="katex">')
    assert cli("a_1", "--display-mode").stdout.startswith('<span class="katex-display">')
    assert cli("a}").returncode == 1


def install_node(version):
    with tarfile.open(os.path.join(DIST, f"zulip-server-{version}.tar.gz")) as tar:
        return tar.extractfile(f"zulip-server-{version}/scripts/lib/install-node").read().decode()


FAKE_CURL = """#!/bin/sh
echo "$*" >> "$CURL_LOG"
[ -n "$CURL_FROM" ] || exit 7  # no network
for url; do :; done
cp "$CURL_FROM/${url##*/}" .
"""


@pytest.fixture
def sandbox(tmp_path):
    """install-node with its system paths moved under tmp_path, a curl that
    records its arguments and fails (or copies from dist/deps/)."""
    root = tmp_path / "root"
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    (tmp_path / "fakebin").mkdir()
    (tmp_path / "fakebin" / "curl").write_text(FAKE_CURL)
    (tmp_path / "fakebin" / "curl").chmod(0o755)

    def run(version, network=False):
        text = install_node(version)
        for path in ("/srv/zulip-node", "/usr/local/bin", "/srv/zulip-yarn", "/usr/bin/yarn", "/usr/local/nvm"):
            text = text.replace(path, f"{root}{path}")
        script = tmp_path / "install-node"
        script.write_text(text)
        env = dict(os.environ, PATH=f"{tmp_path / 'fakebin'}:{root}/usr/local/bin:/usr/bin:/bin",
                   CURL_LOG=str(tmp_path / "curl.log"), CURL_FROM=os.path.join(DIST, "deps") if network else "")
        return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, cwd=tmp_path)

    def curl_calls():
        log = tmp_path / "curl.log"
        return log.read_text().splitlines() if log.exists() else []

    return run, curl_calls, root


@pytest.mark.parametrize("version, node", [("9.4", "20.12.2"), ("10.1", "22.14.0")])
def test_install_node_downloads_from_nodejs_org(sandbox, version, node):
    run, curl_calls, _ = sandbox
    result = run(version)
    assert result.returncode != 0  # no network in the lab: faithful
    assert curl_calls() == [f"-fLO --retry 3 https://nodejs.org/dist/v{node}/node-v{node}-linux-{NODE_ARCH}.tar.xz"]


def test_install_node_installs_then_does_nothing(sandbox):
    run, curl_calls, root = sandbox
    result = run("10.0", network=True)
    assert result.returncode == 0, result.stderr
    assert subprocess.run([root / "usr/local/bin/node", "--version"], capture_output=True,
                          text=True).stdout == "v22.14.0\n"
    assert os.path.samefile(root / "usr/local/bin/pnpm", root / "srv/zulip-node/lib/node_modules/corepack/dist/pnpm.js")
    assert run("10.1").returncode == 0 and len(curl_calls()) == 1  # already there: no download
    assert run("9.4").returncode != 0 and len(curl_calls()) == 2  # another version: downloads


def test_install_node_checks_the_sha256(sandbox, tmp_path):
    run, curl_calls, root = sandbox
    text = install_node("10.0")
    digest = re.search(rf"{NODE_ARCH}\.tar\.xz\"\n\s+sha256=([0-9a-f]{{64}})\n", text).group(1)
    with open(os.path.join(DIST, "deps", f"node-v22.14.0-linux-{NODE_ARCH}.tar.xz"), "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest
    bad = tmp_path / "bad"
    shutil.copytree(os.path.join(DIST, "deps"), bad)
    (bad / f"node-v22.14.0-linux-{NODE_ARCH}.tar.xz").write_bytes(b"not node")
    (tmp_path / "fakebin" / "curl").write_text(FAKE_CURL.replace('"$CURL_FROM/', f'"{bad}/'))
    result = run("10.0", network=True)
    assert result.returncode != 0 and "FAILED" in result.stdout
    assert not (root / "srv" / "zulip-node").exists()


# The Django side (zerver/lib/tex.py, zerver/views.py render()), in every release.
from test_django import release  # noqa: E402,F401  (the unpacked-release fixture)

RENDER = "from zerver.views import render; print(render('a < $$x^2$$ and $$y'))"
TEX_ERROR = '<p>a &lt; <span class="tex-error">$$x^2$$</span> and $$y</p>'


@pytest.mark.parametrize("conf, expected", [("", "True '9700'"),
                                            ("[application_server]\nkatex_server = false\nkatex_server_port = 9701\n",
                                             "False '9701'")])
def test_katex_settings(release, conf, expected):
    code = "from django.conf import settings; print(settings.KATEX_SERVER, repr(settings.KATEX_SERVER_PORT))"
    assert release(version="9.4", conf=conf).run(code).stdout.strip() == expected


@pytest.mark.parametrize("version", ["9.4", "10.1"])
def test_render_uses_the_katex_server(release, node_root, bundles, version):
    port = free_port()
    proc = start_katex(node_root, bundles, port, secret="b")  # test_django's shared_secret
    try:
        proc.stdout.readline()
        result = release(version=version, conf=f"[application_server]\nkatex_server_port = {port}\n").run(RENDER)
    finally:
        proc.terminate()
        proc.wait(10)
    assert result.stdout.startswith('<p>a &lt; <span class="katex">'), result.stderr
    assert '<annotation encoding="application/x-tex">x^2</annotation>' in result.stdout
    assert result.stdout.rstrip().endswith("</span> and $$y</p>")


def test_render_without_the_katex_server_shows_the_tex(release):
    result = release(conf=f"[application_server]\nkatex_server_port = {free_port()}\n").run(RENDER)
    assert result.stdout.strip() == TEX_ERROR
    assert "KaTeX rendering service failed: ConnectionRefusedError" in result.stderr


def test_render_with_a_wrong_secret_logs_the_refusal(release, node_root, bundles):
    port = free_port()
    proc = start_katex(node_root, bundles, port, secret="not-b")
    try:
        proc.stdout.readline()
        result = release(conf=f"[application_server]\nkatex_server_port = {port}\n").run(RENDER)
    finally:
        proc.terminate()
        proc.wait(10)
    assert result.stdout.strip() == TEX_ERROR
    assert "KaTeX rendering service failed: (403) Invalid 'shared_secret' argument" in result.stderr


def test_render_with_katex_server_off_runs_node(release, node_root):
    conf = "[application_server]\nkatex_server = false\n"
    tree = release(conf=conf, extra_env={"PATH": f"{node_root / 'bin'}:{os.environ['PATH']}"})
    static = "from django.conf import settings; settings.STATIC_ROOT = sys.argv[1]\n"
    result = tree.run(static + RENDER, str(tree.tree / "prod-static" / "serve"))
    assert result.stdout.startswith('<p>a &lt; <span class="katex">'), result.stderr
    result = tree.run(static + RENDER, str(tree.tree / "nowhere"))
    assert result.stdout.strip() == TEX_ERROR
    assert "Cannot find KaTeX for latex rendering!" in result.stderr
