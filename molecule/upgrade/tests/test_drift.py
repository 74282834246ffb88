"""Config drift: files the collection rendered and an admin edited by hand are
listed before a run rewrites them, --check --diff lists them and changes
nothing, and install.yml keeps a copy of each hand edit before rewriting it
(README "Hand-edited config files"). Runs before test_upgrade.py (sorted), on
the converged install; it only needs a working server, whatever its version."""

import subprocess

# The upgrade scenario's inventory, host and playbook runner.
from test_upgrade import DIST, ENV, INVENTORY, NAME, PROJECT, SITE, assert_ok, host, playbook as run_playbook  # noqa: F401

COPIES = "/var/lib/zulip-server/hand-edited"
MANIFEST = "/var/lib/zulip-server/rendered.json"
# One file of zulip_base's, two of zulip_app_frontend's; the edits are comments.
EDITED = ["/etc/zulip/zulip.conf", "/etc/zulip/settings.py", "/etc/nginx/zulip-include/headers"]
EDIT = "# edited by hand by the drift test"
# install.yml, only the parts that render these files.
CONFIGURE = ["--tags", "zulip_base_configure,zulip_app_frontend_configure"]


def playbook(name, *options, **extra):
    result = run_playbook(name, *options, **extra)
    assert_ok(result)
    # One string to search: warnings are on stderr, diffs and results span lines.
    return " ".join((result.stdout + result.stderr).split())


def listed(output, path):
    return f"{path} was edited by hand since zulip.server last wrote it" in output


def snapshot(host):
    files = " ".join(EDITED + [MANIFEST])
    return host.check_output(f"sha256sum {files}; find {COPIES} -type f 2>/dev/null | sort; true")


def test_hand_edits_are_listed_and_kept_before_install_rewrites_them(host):
    assert host.file(MANIFEST).exists, "install.yml records what it rendered"
    for path in EDITED:
        host.check_output(f"echo '{EDIT}' >> {path}")
    before = snapshot(host)
    version = host.check_output(
        "sed -n \"s/^ZULIP_VERSION = [\\\"']\\([^\\\"']*\\).*/\\1/p\" /home/zulip/deployments/current/version.py").strip()

    # upgrade.yml lists them in its preflight, in check mode too, and changes nothing.
    output = playbook("upgrade", "--check", "--diff", zulip_release=f"{DIST}/zulip-server-{version}.tar.gz")
    assert all(listed(output, path) for path in EDITED), output[-3000:]
    assert "upgrade.yml leaves it as it is" in output
    # install.yml --check --diff: listed, the hand edit shown in the diff, nothing changed.
    output = playbook("install", "--check", "--diff", *CONFIGURE)
    assert all(listed(output, path) for path in EDITED), output[-3000:]
    assert f"-{EDIT}" in output
    assert snapshot(host) == before

    output = playbook("install", *CONFIGURE)

    for path in EDITED:
        assert listed(output, path), output[-3000:]
        assert EDIT not in host.file(path).content_string, f"{path} was not rendered again"
        copies = host.check_output(f"find {COPIES} -path '*{path}' -type f").split()
        assert len(copies) == 1 and f"A copy of the edited file is kept in {copies[0]}" in output
        assert host.file(copies[0]).content_string.endswith(EDIT + "\n"), "the hand edit is kept"
    # Serving again after the restart settings.py's change set off.
    host.check_output(f"for i in $(seq 60); do curl -skf -H 'Host: {SITE}' https://127.0.0.1/health && exit 0;"
                      " sleep 1; done; exit 1")
    # The manifest now holds what was rendered: nothing is edited any more.
    check = subprocess.run(["ansible", "-i", INVENTORY, NAME, "-m", "zulip.server.zulip_rendered_files",
                            "-a", "state=checked"], capture_output=True, text=True, cwd=PROJECT, env=ENV, check=True)
    assert '"edited": []' in check.stdout, check.stdout
