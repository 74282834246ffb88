"""Send a message through the demo cluster with the official zulip client, read
it back, and print how to reach the server. Usage: demo_message.py APP_CONTAINER"""

import os
import socket
import subprocess
import sys
import tempfile

import zulip


def container_file(container, path):
    return subprocess.run(["docker", "exec", container, "cat", path], check=True, capture_output=True, text=True).stdout


def main(container):
    address = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container],
                             check=True, capture_output=True, text=True).stdout.strip()
    # requests lets these variables override a session's own CA bundle.
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(variable, None)
    real = socket.getaddrinfo
    # The demo's hostname resolves inside its docker network; point it at the container here.
    socket.getaddrinfo = lambda host, *a, **k: real(address if host == container else host, *a, **k)
    with tempfile.TemporaryDirectory() as tmp:
        ca, rc = f"{tmp}/ca.crt", f"{tmp}/zuliprc"
        open(ca, "w").write(container_file(container, "/etc/ssl/certs/zulip.combined-chain.crt"))
        open(rc, "w").write(container_file(container, "/home/zulip/credentials/ops.zuliprc"))
        client = zulip.Client(config_file=rc, cert_bundle=ca)
        sent = client.send_message({"type": "stream", "to": "general", "topic": "demo", "content": "Hello from make demo"})
        if sent.get("result") != "success":
            sys.exit(f"demo: sending failed: {sent}")
        got = client.get_messages({"anchor": sent["id"], "num_before": 0, "num_after": 0})
        content = got["messages"][0]["content"] if got.get("messages") else "(not found)"
        version = client.get_server_settings().get("zulip_version")
    print(f"""
demo: Zulip {version} is running at https://{container}/ (container address {address}).
demo: message {sent['id']} sent and read back through nginx: {content}
demo: from this machine: curl -k --resolve {container}:443:{address} https://{container}/api/v1/server_settings
demo: owner's password: docker exec {container} cat /home/zulip/credentials/admin-password
demo: bot credentials (zuliprc): docker exec {container} cat /home/zulip/credentials/ops.zuliprc
demo: replication health: docker exec demo-db zulip-check-replication; docker exec demo-db2 zulip-check-replication
demo: tear it down with: bash lab/demo.sh destroy""")


if __name__ == "__main__":
    main(sys.argv[1])
