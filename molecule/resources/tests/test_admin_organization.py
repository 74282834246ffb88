"""The organization on a new database, as the inventory asks: by default, as
Zulip's installer, a one-time creation link for the admin and no
organization; with zulip_app_frontend_create_realm, the organization, made
once (converge and idempotence both ran install.yml). Sorted first: the
zuliprc fixture creates the organization where the default left none."""

import re

import requests
import urllib3

from lab_helpers import active_app, app_variables, get_host, hosts_in

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # requests to an address, not the name
LINK = "/home/zulip/credentials/realm-creation-link"


def organizations(host):
    """string_ids of the realms besides Zulip's system bot realm, from list_realms."""
    out = host.check_output("cd /home/zulip/deployments/current && runuser -u zulip -- ./manage.py list_realms")
    rows = [line.split()[1] for line in out.splitlines()[2:] if line.strip()]
    return [row for row in rows if row != "zulipinternal"]


def test_a_new_database_gets_the_organization_the_inventory_asks_for():
    name = active_app()
    host = get_host(name)
    variables = app_variables(name)
    external_host = variables["zulip_external_host"]
    if variables.get("zulip_app_frontend_create_realm"):
        assert organizations(host) == ["''"]  # the root domain's, once
        assert not host.file(LINK).exists
        password = host.file("/home/zulip/credentials/admin-password")
        assert (password.user, password.mode) == ("zulip", 0o600)
        return
    assert organizations(host) == []
    link = host.file(LINK)
    assert (link.user, link.mode) == ("zulip", 0o600)
    match = re.fullmatch(rf"https://{re.escape(external_host)}(/new/[0-9a-f]+)\n", link.content_string)
    assert match, link.content_string
    for other in hosts_in("zulip_app_frontend"):
        assert not get_host(other).file("/home/zulip/credentials/admin-password").exists
        assert not get_host(other).file("/home/zulip/credentials/ops.zuliprc").exists
    # The link works (through nginx), a made-up one does not.
    scheme = "http" if variables.get("zulip_app_frontend_http_only") else "https"
    base = f"{scheme}://{host.run('hostname -I').stdout.split()[0]}"
    headers = {"Host": external_host}
    assert requests.get(base + match.group(1), headers=headers, verify=False, timeout=20).status_code == 200
    assert requests.get(base + "/new/0123456789abcdef01234567", headers=headers, verify=False,
                        timeout=20).status_code == 404
