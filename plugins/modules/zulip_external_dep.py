#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_external_dep
author: zulip.server maintainers
version_added: "0.2.0"
short_description: Pinned third-party binaries, checked against their SHA-256, in versioned directories (Zulip's external_dep)
description:
  - What Zulip's Puppet C(zulip::external_dep) does for go-camo, Smokescreen, tusd and the like, for several
    dependencies in one call.
  - Each one is fetched from its C(url) (or taken from C(src), a file already on the host, for sites without internet
    access) into a temporary file, checked against its C(sha256), and only then installed as
    C(<root>/zulip-<name>-<version>) - the whole file (C(tarball_prefix) empty) or the directory C(tarball_prefix) of
    the tarball.
  - Only when every dependency is installed are their C(links) pointed at the new versions; then the other versions
    under O(root) are removed (O(purge)). A wrong checksum or a failed download fails the call and switches nothing.
  - A version already installed from the same checksum is left as it is (a second run changes nothing); another build
    under the same version is refused.
  - In C(url), C(src), C(tarball_prefix), C(bin) and link targets, C({version}) is the version, C({goarch}) Go's
    name for the host's architecture (C(amd64), C(arm64)) and C({nodearch}) Node.js's (C(x64), C(arm64)).
  - Relative symbolic links inside the tarball's directory are installed as they are; links that leave it, and hard
    links, are refused.
options:
  deps:
    description: The dependencies.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The dependency's name (C(go-camo), C(tusd), ...).
        type: str
        required: true
      version:
        description: Its version; part of the directory name.
        type: str
        required: true
      sha256:
        description: The SHA-256 of the downloaded file (hex), or, as in Zulip's C(common.pp), a mapping from
          architecture (C(amd64), C(aarch64)) to it.
        type: raw
        required: true
      url:
        description: Where to fetch it (C(https://), C(http://) or C(file://)), unless C(src) is given.
        type: str
      src:
        description: A file on the host that holds it already (for sites without internet access); used instead of
          C(url).
        type: str
      tarball_prefix:
        description: The directory inside the tarball to install; empty for a single file (a binary).
        type: str
        default: ""
      mode:
        description: Mode of a single file, and of C(bin) files in a tarball.
        type: str
        default: "0755"
      bin:
        description: Paths inside the installed directory that must be executable (mode C(mode)).
        type: list
        elements: str
        default: []
      links:
        description: Symbolic links to point at the installed version.
        type: list
        elements: dict
        default: []
        suboptions:
          path:
            description: Absolute path of the link.
            type: path
            required: true
          target:
            description: What it points at, relative to the installed version (empty for the version itself).
            type: str
            default: ""
  root:
    description: Where the versions are installed.
    type: path
    default: /srv
  purge:
    description: Remove the other versions of each dependency under O(root) once the links point at the new one.
    type: bool
    default: true
  ca_file:
    description: CA bundle to verify C(https://) URLs with (default the system's).
    type: path
  timeout:
    description: Seconds a download may take.
    type: int
    default: 600
  architecture:
    description: The host's architecture in Zulip's naming (C(amd64), C(aarch64)); default the machine's.
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    description: Any POSIX host.
    platforms: posix
"""

EXAMPLES = r"""
- name: tusd, as Zulip pins it
  zulip.server.zulip_external_dep:
    deps:
      - name: tusd
        version: 2.8.0
        url: https://github.com/tus/tusd/releases/download/v{version}/tusd_linux_{goarch}.tar.gz
        sha256:
          amd64: e13c8adc9bed4c993a72f60140f688736058d2c3f4a18fb6e59ca26e829fb93b
          aarch64: 089eb6d144df7cc5e10ac611a18f407308aedb3f9024a78fa01cb60ba99005a9
        tarball_prefix: tusd_linux_{goarch}
        bin: [tusd]
        links:
          - {path: /usr/local/bin/tusd, target: tusd}
"""

RETURN = r"""
deps:
  description: Per dependency name, C(path) (the installed version), C(installed) (whether this run installed it) and
    C(purged) (the other versions removed).
  returned: always
  type: dict
  sample: {tusd: {path: /srv/zulip-tusd-2.8.0, installed: false, purged: []}}
"""

import glob
import json
import os
import platform
import shutil
import ssl
import tarfile
import tempfile
import urllib.request

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.zulip.server.plugins.module_utils.probe import sha256_of

MARKER = ".zulip-sha256"
# Machine name -> (Zulip's architecture name, Go's, Node.js's).
ARCHITECTURES = {"x86_64": ("amd64", "amd64", "x64"), "amd64": ("amd64", "amd64", "x64"),
                 "aarch64": ("aarch64", "arm64", "arm64"), "arm64": ("aarch64", "arm64", "arm64")}


class DepError(Exception):
    pass


def fetch(url, dest, ca_file, timeout):
    context = ssl.create_default_context(cafile=ca_file) if url.startswith("https://") else None
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response, open(dest, "wb") as out:
            shutil.copyfileobj(response, out)
    except (OSError, ValueError) as error:
        raise DepError(f"cannot fetch {url}: {error}") from error


def marker_path(path):
    """Where a version records what it was installed from: inside a directory, beside a single file."""
    return os.path.join(path, MARKER) if os.path.isdir(path) and not os.path.islink(path) else f"{path}{MARKER}"


def read_marker(path):
    """{name, version, sha256} of an installed version, or None."""
    try:
        with open(marker_path(path), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_marker(marker, dep):
    with open(marker, "w", encoding="utf-8") as handle:
        json.dump({"name": dep["name"], "version": dep["version"], "sha256": dep["sha256"]}, handle)
        handle.write("\n")


def safe_members(tar, prefix):
    """The members under prefix/, with their names relative to it; refuses links and paths that leave it."""
    out = []
    for member in tar.getmembers():
        name = os.path.normpath(member.name)
        if name != prefix and not name.startswith(prefix + "/"):
            continue
        relative = os.path.relpath(name, prefix)
        if relative.startswith("..") or os.path.isabs(relative):
            raise DepError(f"{member.name} leaves {prefix}")
        # Relative symbolic links within the directory are kept (Node's bin/npm -> ../lib/...).
        if member.issym():
            pointee = os.path.normpath(os.path.join(os.path.dirname(relative), member.linkname))
            if os.path.isabs(member.linkname) or pointee == ".." or pointee.startswith("../"):
                raise DepError(f"{member.name}: links out of the tarball are not installed")
        if member.islnk():
            raise DepError(f"{member.name}: hard links are not installed")
        if not (member.isfile() or member.isdir() or member.issym()):
            raise DepError(f"{member.name}: not a file or directory")
        out.append((member, relative))
    if not out:
        raise DepError(f"the tarball has no {prefix}/")
    return out


def unpack(dep, download, staging):
    """Put the checked download in place under staging (the future version path)."""
    mode = int(dep["mode"], 8)
    if not dep["tarball_prefix"]:
        shutil.copyfile(download, staging)
        os.chmod(staging, mode)
        write_marker(f"{staging}{MARKER}", dep)
        return
    prefix = os.path.normpath(dep["tarball_prefix"])
    try:
        with tarfile.open(download) as tar:
            members = safe_members(tar, prefix)
            os.makedirs(staging, mode=0o755)
            for member, relative in members:
                target = os.path.join(staging, relative)
                if member.isdir():
                    os.makedirs(target, mode=0o755, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if member.issym():
                    os.symlink(member.linkname, target)
                    continue
                with tar.extractfile(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                os.chmod(target, member.mode & 0o755 | 0o644)
    except tarfile.TarError as error:
        raise DepError(f"{dep['name']}: not a readable tarball: {error}") from error
    for name in dep["bin"]:
        path = os.path.join(staging, name)
        if not os.path.isfile(path):
            raise DepError(f"{dep['name']}: the tarball's {prefix}/ has no {name}")
        os.chmod(path, mode)
    write_marker(os.path.join(staging, MARKER), dep)


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def point(link, target, check_mode):
    if os.path.islink(link) and os.readlink(link) == target:
        return False
    if os.path.lexists(link) and not os.path.islink(link):
        raise DepError(f"{link} exists and is not a symbolic link")
    if not check_mode:
        os.makedirs(os.path.dirname(link), exist_ok=True)
        tmp = f"{link}.{os.getpid()}.tmp"
        os.symlink(target, tmp)
        os.replace(tmp, link)
    return True


def resolve(dep, arch, goarch, nodearch):
    """The dependency with its checksum for this architecture and its placeholders filled in."""
    dep = dict(dep)
    sha256 = dep["sha256"]
    if isinstance(sha256, dict):
        if arch not in sha256:
            raise DepError(f"No sha256 found for {dep['name']} for architecture {arch}")
        sha256 = sha256[arch]
    sha256 = str(sha256).lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise DepError(f"{dep['name']}: sha256 must be 64 hex digits: {sha256}")
    if not dep["name"] or not dep["version"] or "/" in dep["name"] + dep["version"]:
        raise DepError("name and version must be non-empty and hold no /")
    if not (dep["url"] or dep["src"]):
        raise DepError(f"{dep['name']}: give url or src")
    if dep["src"]:
        dep["url"] = None

    def fill(text):
        if not text:
            return text
        return text.replace("{version}", dep["version"]).replace("{goarch}", goarch).replace("{nodearch}", nodearch)

    dep.update(sha256=sha256, url=fill(dep["url"]), src=fill(dep["src"]), tarball_prefix=fill(dep["tarball_prefix"]),
               bin=[fill(b) for b in dep["bin"]],
               links=[{"path": link["path"], "target": fill(link["target"])} for link in dep["links"]])
    return dep


def run(module):
    p = module.params
    machine = p["architecture"] or platform.machine()
    if machine not in ARCHITECTURES:
        raise DepError(f"unsupported architecture {machine}")
    deps = [resolve(dep, *ARCHITECTURES[machine]) for dep in p["deps"]]
    result = {"changed": False, "deps": {}}
    if not module.check_mode:
        os.makedirs(p["root"], exist_ok=True)
    # Staged on the same file system as root, so that putting a version in place is a rename.
    with tempfile.TemporaryDirectory(dir=p["root"] if os.path.isdir(p["root"]) else None, prefix=".zulip-deps-") as work:
        staged = []
        # First every download, checked and unpacked aside; nothing in place is touched until all are good.
        for dep in deps:
            path = os.path.join(p["root"], f"zulip-{dep['name']}-{dep['version']}")
            result["deps"][dep["name"]] = {"path": path, "installed": False, "purged": []}
            marker = read_marker(path)
            if marker is not None and marker.get("sha256") == dep["sha256"]:
                continue
            if marker is not None:
                raise DepError(f"{path} holds another build (SHA-256 {marker.get('sha256')}); remove it to install this one")
            result["changed"] = True
            result["deps"][dep["name"]]["installed"] = True
            if module.check_mode:
                continue
            download = os.path.join(work, f"{dep['name']}.download")
            if dep["src"]:
                shutil.copyfile(dep["src"], download)
            else:
                fetch(dep["url"], download, p["ca_file"], p["timeout"])
            got = sha256_of(download)
            if got != dep["sha256"]:
                raise DepError(f"{dep['url'] or dep['src']} has SHA-256 {got}, not {dep['sha256']}: "
                               "not installed, nothing switched")
            staging = os.path.join(work, f"{dep['name']}.version")
            unpack(dep, download, staging)
            staged.append((staging, path, bool(dep["tarball_prefix"])))
        for staging, path, is_tree in staged:
            remove(path)  # an unfinished earlier install (no marker), never a recorded one
            remove(f"{path}{MARKER}")
            if not is_tree:
                os.replace(f"{staging}{MARKER}", f"{path}{MARKER}")
            os.replace(staging, path)
    for dep in deps:
        path = result["deps"][dep["name"]]["path"]
        for link in dep["links"]:
            if point(link["path"], os.path.join(path, link["target"]) if link["target"] else path, module.check_mode):
                result["changed"] = True
    if p["purge"]:
        for dep in deps:
            entry = result["deps"][dep["name"]]
            pattern = os.path.join(glob.escape(p["root"]), f"zulip-{glob.escape(dep['name'])}-*")
            for other in sorted(glob.glob(pattern)):
                # Only recorded versions of this name (zulip-go-* also matches zulip-go-camo-*).
                if other == entry["path"] or other.endswith(MARKER) or (read_marker(other) or {}).get("name") != dep["name"]:
                    continue
                entry["purged"].append(other)
                result["changed"] = True
                if not module.check_mode:
                    marker = marker_path(other)
                    remove(other)
                    remove(marker)
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "deps": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "version": {"type": "str", "required": True},
                "sha256": {"type": "raw", "required": True},
                "url": {"type": "str"},
                "src": {"type": "str"},
                "tarball_prefix": {"type": "str", "default": ""},
                "mode": {"type": "str", "default": "0755"},
                "bin": {"type": "list", "elements": "str", "default": []},
                "links": {"type": "list", "elements": "dict", "default": [], "options": {
                    "path": {"type": "path", "required": True},
                    "target": {"type": "str", "default": ""},
                }},
            }},
            "root": {"type": "path", "default": "/srv"},
            "purge": {"type": "bool", "default": True},
            "ca_file": {"type": "path"},
            "timeout": {"type": "int", "default": 600},
            "architecture": {"type": "str"},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except (DepError, OSError) as error:
        module.fail_json(msg=str(error))


if __name__ == "__main__":
    main()
