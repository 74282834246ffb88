#!/bin/bash
# Build the collection artifact and prove it installs cleanly into an empty
# collections path, where ansible-doc lists its plugins without errors.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/.cache/build
rm -rf "$out" && mkdir -p "$out/collections"
ansible-galaxy collection build --force --output-path "$out" . >/dev/null
artifact=$(ls "$out"/zulip-server-*.tar.gz)
# Nothing from the lab, the tests or the build outputs may ship.
if tar -tzf "$artifact" | grep -E '^(\.venv|\.cache|tests|molecule|lab|bench|\.ci)/'; then
  echo "build-check: $artifact contains lab or test files" >&2; exit 1
fi
export ANSIBLE_COLLECTIONS_PATH="$out/collections"
ansible-galaxy collection install --offline --no-deps -p "$out/collections" "$artifact" >/dev/null
listing=$( (ansible-doc -l zulip.server && ansible-doc -t filter -l zulip.server) 2>&1)
echo "$listing"
# Listing reads little of each file: render every plugin's whole documentation
# too (a YAML error there leaves the plugin undocumented).
for type in module lookup filter; do
  names=$(ansible-doc -t "$type" -l zulip.server 2>/dev/null | awk '{print $1}')
  if [ -n "$names" ]; then
    errors=$(ansible-doc -t "$type" $names 2>&1 >/dev/null || true)
    echo "$errors"
    listing+=$'\n'$errors
  fi
done
# Ansible's own errors and warnings, not Python's deprecation notices from
# third-party libraries (cryptography warns about DSA on some machines).
if grep -qE '^(\[(ERROR|WARNING)\]|ERROR)' <<<"$listing" || ! grep -q '^zulip.server.zulip_secrets' <<<"$listing"; then
  echo "build-check: ansible-doc could not list or document the plugins" >&2; exit 1
fi
echo "build-check: $(basename "$artifact") builds, installs and documents its plugins"
