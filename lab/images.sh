#!/bin/bash
# Build the lab's base images from Debian's packages (no registry involved):
# debootstrap a minimal root with systemd, then `docker import` it.
# Each image carries a label with the hash of its recipe; when an image with
# the same hash exists the build is skipped, so a second run takes seconds.
#
# usage: lab/images.sh [suite ...]      (default: bookworm trixie)
set -euo pipefail
SELF=$(realpath "$0")
cd "$(dirname "$SELF")"

REPO=zulip-lab/debian
MIRROR=${LAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# python3-apt: Ansible's apt module needs it to preview (check mode) a host.
INCLUDE=systemd,systemd-sysv,python3,python3-apt,sudo,iproute2,procps,ca-certificates

bash ./docker-engine.sh

recipe_hash() {
  # Everything that shapes the image: this script and the suite name.
  { cat "$SELF"; echo "$1"; } | sha256sum | cut -c1-16
}

build() {
  local suite=$1 hash image have root
  hash=$(recipe_hash "$suite")
  image="$REPO:$suite"
  have=$(docker image inspect --format '{{ index .Config.Labels "zulip.lab.recipe" }}' "$image" 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then
    echo "lab/images.sh: $image up to date ($hash)"
    return
  fi
  command -v debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq debootstrap >/dev/null
  }
  # A trixie debootstrap on a bookworm host needs trixie's keyring script;
  # the host's debootstrap knows it by name (symlink to sid).
  root=$(mktemp -d /var/tmp/lab-rootfs-XXXXXX)
  trap 'rm -rf "$root"' RETURN
  echo "lab/images.sh: debootstrap $suite (about 40 s)"
  debootstrap --variant=minbase --include="$INCLUDE" "$suite" "$root" "$MIRROR" >"$root.log" 2>&1 || {
    tail -20 "$root.log" >&2; return 1; }
  rm -f "$root.log"
  cat >"$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR $suite main
deb $MIRROR $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
SOURCES
  # Containers have no console to log into; units that expect one only slow boot.
  rm -f "$root"/etc/systemd/system/getty.target.wants/* "$root"/etc/machine-id
  : >"$root/etc/machine-id"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*_*
  # No package lists ship: mark them stale so the first apt run refreshes them.
  touch -d @0 "$root"/var/lib/apt/lists
  tar -C "$root" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' \
    -c "LABEL zulip.lab.recipe=$hash" \
    - "$image" >/dev/null
  echo "lab/images.sh: built $image ($hash)"
}

# zulip-lab/s3:bookworm: the bookworm image with moto (an S3 server) and
# gunicorn from PyPI in /opt/lab-s3, for the backup tests (molecule/split).
# pip reaches PyPI through this machine's TLS-intercepting proxy: the
# container gets the host's CA bundle for the build only.
S3_PINS="moto[server]==5.2.6 gunicorn==27.0.1"
build_s3() {
  local hash image have box
  hash=$( { cat "$SELF"; docker image inspect --format '{{ index .Config.Labels "zulip.lab.recipe" }}' "$REPO:bookworm"; } \
    | sha256sum | cut -c1-16)
  image=zulip-lab/s3:bookworm
  have=$(docker image inspect --format '{{ index .Config.Labels "zulip.lab.recipe" }}' "$image" 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then
    echo "lab/images.sh: $image up to date ($hash)"
    return
  fi
  box=lab-s3-build-$$
  docker rm -f "$box" >/dev/null 2>&1 || true
  trap 'docker rm -f "$box" >/dev/null 2>&1 || true' RETURN
  echo "lab/images.sh: building $image (pip install $S3_PINS, about a minute)"
  docker run -d --name "$box" -v /etc/ssl/certs/ca-certificates.crt:/tmp/host-ca.crt:ro \
    "$REPO:bookworm" /bin/sleep infinity >/dev/null
  docker exec "$box" bash -c "set -e
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv curl >/dev/null
    python3 -m venv /opt/lab-s3
    PIP_CERT=/tmp/host-ca.crt /opt/lab-s3/bin/pip install -q --disable-pip-version-check $S3_PINS
    rm -rf /var/lib/apt/lists/*_* /root/.cache"
  docker commit -c 'CMD ["/lib/systemd/systemd"]' -c "LABEL zulip.lab.recipe=$hash" "$box" "$image" >/dev/null
  echo "lab/images.sh: built $image ($hash)"
}

for suite in "${@:-bookworm trixie}"; do
  for s in $suite; do
    build "$s"
    if [ "$s" = bookworm ]; then build_s3; fi
  done
done
