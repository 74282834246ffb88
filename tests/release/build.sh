#!/bin/bash
# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  Builds tests/release/dist/ (see build.py); idempotent.
set -euo pipefail
cd "$(dirname "$0")"

# update-prod-static compiles translations with msgfmt (GNU gettext).
if ! command -v msgfmt >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "build: installing gettext (msgfmt)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q gettext >/dev/null; }
    else
        echo "build: msgfmt not found; install the 'gettext' package" >&2
        exit 1
    fi
fi
command -v git >/dev/null 2>&1 || { echo "build: git is required" >&2; exit 1; }

exec python3 build.py "$@"
