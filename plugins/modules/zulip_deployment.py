#!/usr/bin/python
# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zulip_deployment
author: zulip.server maintainers
version_added: "0.1.0"
short_description: Unpack Zulip releases into deployment directories and switch the current one
description:
  - Manages Zulip's deployment directories the way Zulip's deploy scripts lay them out. Every release is unpacked into
    its own directory under O(deployments_dir), named by the local time of unpacking (C(%Y-%m-%d-%H-%M-%S)). The
    symlinks C(current) (the running deployment), C(last) (the one before) and C(next) (the one being installed) point
    at these directories.
  - O(state=unpacked) unpacks a release tarball into a new deployment directory and points C(next) at it. A release whose
    tarball (by SHA-256) is already unpacked is not unpacked again.
  - O(state=current) makes a deployment the current one.
  - O(state=purged) removes old deployment directories.
  - O(state=static) copies a deployment's prebuilt static assets into O(static_dir), where nginx serves C(/static/)
    from, as Zulip's install and upgrade scripts do.
  - The module does not take Zulip's deployment lock (C(deployments/lock)), run migrations or restart anything.
options:
  state:
    description:
      - V(unpacked) unpacks O(archive). The tarball must hold exactly one top-level directory named C(zulip-server-*),
        and no absolute paths, C(..) components, links leading outside that directory, or device files. Its content,
        without the top-level directory, goes into a new timestamp-named directory (if that name is taken, the next
        free second is used). The module then writes the tarball's SHA-256 to C(.zulip-release-sha256) in it, makes
        C(zproject/prod_settings.py) a symlink to O(settings_path), changes the owner of everything to
        O(owner):O(group), and points C(next) at it. Everything is prepared in a hidden directory that is renamed into
        place at the end, so a failed run leaves no half-unpacked deployment. If a directory under O(deployments_dir)
        already has a C(.zulip-release-sha256) holding the tarball's hash, that directory is returned and nothing is
        changed.
      - V(current) points C(current) at O(path) and C(last) at the previous target of C(current) (if there was one and
        it differs), and removes C(next) if it points at O(path). Each symlink is replaced atomically.
      - V(purged) deletes the timestamp-named deployment directories beyond the O(keep) newest ones, never one that
        C(current), C(last) or C(next) points at.
      - V(static) copies C(prod-static/serve) of O(path) over O(static_dir), like Zulip's
        C(cp -rT prod-static/serve /home/zulip/prod-static). Nothing in O(static_dir) is ever deleted, so the hashed
        asset names of the previous release stay served while browsers still run its pages during an upgrade.
        Missing directories are created (mode C(0755), owned by O(owner):O(group)). A regular file is copied when it
        is missing in O(static_dir) or differs in size, content, permission bits or owner; the copy is written to a
        temporary file in the same directory and renamed over the old one, keeps the source's permission bits and is
        owned by O(owner):O(group). Symlinks are copied as symlinks with the same target; an absolute target, or one
        leading outside C(prod-static/serve), is refused. Fails if the deployment has no C(prod-static/serve) (a
        release tarball ships it; a Git checkout has none, its C(tools/update-prod-static) builds into O(static_dir)).
    type: str
    required: true
    choices: [unpacked, current, purged, static]
  deployments_dir:
    description:
      - Directory holding the deployments and the C(current), C(last) and C(next) symlinks.
      - O(state=unpacked) creates it (mode C(0755), owned by O(owner):O(group)) if it is missing.
    type: path
    default: /home/zulip/deployments
  owner:
    description: User (name or number) that owns the unpacked or copied files and the symlinks the module creates.
    type: str
    default: zulip
  group:
    description: Group (name or number) that owns the unpacked or copied files and the symlinks the module creates.
    type: str
    default: zulip
  archive:
    description:
      - Path on the managed host of a Zulip release tarball (C(zulip-server-<version>.tar.gz); any compression
        Python's C(tarfile) reads is accepted).
      - Required with O(state=unpacked).
    type: path
  settings_path:
    description: Target of the C(zproject/prod_settings.py) symlink in a new deployment. Used with O(state=unpacked).
    type: path
    default: /etc/zulip/settings.py
  path:
    description:
      - Deployment to make current (O(state=current)) or to copy the static assets of (O(state=static)). Required with
        these states.
      - Must be a directory directly under O(deployments_dir); symlinks are resolved first, so the C(current) or
        C(next) symlink may be given.
    type: path
  static_dir:
    description:
      - Directory nginx serves C(/static/) from, which O(state=static) copies the assets into. Created (mode C(0755),
        owned by O(owner):O(group)) if it is missing.
    type: path
    default: /home/zulip/prod-static
  keep:
    description:
      - Number of newest timestamp-named deployment directories O(state=purged) keeps, besides the ones C(current),
        C(last) and C(next) point at.
    type: int
    default: 3
attributes:
  check_mode:
    description: Reports what would change, including the path a new deployment would get, and changes nothing.
    support: full
  diff_mode:
    description: No diff is returned.
    support: none
  platform:
    description: Any POSIX host.
    platforms: posix
notes:
  - Symlinks are written with absolute targets.
  - Timestamp-named directories are those whose name is exactly C(YYYY-MM-DD-HH-MM-SS); other entries of
    O(deployments_dir) (C(lock), C(uwsgi-socket), ...) are never touched.
"""

EXAMPLES = r"""
- name: Unpack the release
  zulip.server.zulip_deployment:
    state: unpacked
    archive: /home/zulip/archives/zulip-server-10.4.tar.gz
  register: __zulip_app_frontend_deployment

- name: Make it current
  zulip.server.zulip_deployment:
    state: current
    path: "{{ __zulip_app_frontend_deployment.path }}"

- name: Copy its static assets where nginx serves them
  zulip.server.zulip_deployment:
    state: static
    path: "{{ __zulip_app_frontend_deployment.path }}"

- name: Remove old deployments
  zulip.server.zulip_deployment:
    state: purged
    keep: 3
"""

RETURN = r"""
path:
  description:
    - The deployment directory for the tarball (with O(state=unpacked); in check mode, the path it would get if it is
      not unpacked yet).
    - The resolved O(path) (with O(state=current) or O(state=static)).
  returned: state is unpacked, current or static
  type: str
  sample: /home/zulip/deployments/2025-01-31-14-05-09
version:
  description: Zulip version of the release, from C(ZULIP_VERSION) in its C(version.py); null if not found.
  returned: state is unpacked
  type: str
  sample: "10.4"
sha256:
  description: SHA-256 of the tarball, in hex.
  returned: state is unpacked
  type: str
  sample: 5e8a1d...
venv:
  description: Whether the deployment has its virtualenv (C(zulip-current-venv), made by the release's
    C(scripts/lib/create-production-venv)).
  returned: state is unpacked
  type: bool
previous:
  description: Deployment C(current) pointed at before the run (absolute path), or null if there was no C(current).
  returned: state is current
  type: str
  sample: /home/zulip/deployments/2024-12-02-09-30-00
removed:
  description: Deployment directories removed (or that would be, in check mode), newest first.
  returned: state is purged
  type: list
  elements: str
  sample: [/home/zulip/deployments/2024-06-01-10-00-00]
static_dir:
  description: Absolute path of O(static_dir).
  returned: state is static
  type: str
  sample: /home/zulip/prod-static
files:
  description: Number of files (regular files and symlinks) in the deployment's C(prod-static/serve).
  returned: state is static
  type: int
  sample: 4873
copied:
  description: Number of those files copied into O(static_dir) (or that would be, in check mode).
  returned: state is static
  type: int
  sample: 212
"""

import datetime
import fnmatch
import grp
import os
import posixpath
import pwd
import re
import shutil
import stat
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.zulip.server.plugins.module_utils.probe import sha256_of

SHA_FILE = ".zulip-release-sha256"
# What the release's create-production-venv makes in a deployment.
VENV_LINK = "zulip-current-venv"
TIMESTAMP_FORMAT = "%Y-%m-%d-%H-%M-%S"
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$")
VERSION_RE = re.compile(r"""^ZULIP_VERSION\s*=\s*["']([^"'\n]*)["']""", re.MULTILINE)
LINK_NAMES = ("current", "last", "next")


class DeploymentError(Exception):
    """A failure to report with fail_json."""


def resolve_ids(owner, group):
    try:
        uid = int(owner) if owner.isdigit() else pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise DeploymentError(f"user {owner!r} does not exist") from None
    try:
        gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError:
        raise DeploymentError(f"group {group!r} does not exist") from None
    return uid, gid


def link_target(link):
    """Absolute target of the symlink `link`, or None if it is no symlink."""
    if not os.path.islink(link):
        return None
    target = os.readlink(link)
    return os.path.normpath(os.path.join(os.path.dirname(link), target))


def replace_symlink(link, target, uid, gid):
    """Point `link` at `target` atomically (new symlink, then rename over)."""
    directory = os.path.dirname(link)
    tmp = os.path.join(directory, f".{os.path.basename(link)}.tmp-{os.getpid()}")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    try:
        os.lchown(tmp, uid, gid)
    except PermissionError:
        pass
    os.replace(tmp, link)


def find_unpacked(deployments_dir, sha256):
    """A directory of deployments_dir whose sha file holds sha256, or None."""
    if not os.path.isdir(deployments_dir):
        return None
    for name in sorted(os.listdir(deployments_dir)):
        candidate = os.path.join(deployments_dir, name)
        if name.startswith(".") or os.path.islink(candidate) or not os.path.isdir(candidate):
            continue
        try:
            with open(os.path.join(candidate, SHA_FILE), encoding="ascii", errors="replace") as handle:
                if handle.read().strip() == sha256:
                    return candidate
        except OSError:
            continue
    return None


def read_version(text):
    match = VERSION_RE.search(text)
    return match.group(1) if match else None


def check_members(tar, archive):
    """Validate the tarball's members; return (top, [(member, relative name)])."""
    tops = set()
    entries = []
    for member in tar.getmembers():
        name = member.name
        while name.startswith("./"):
            name = name[2:]
        name = name.rstrip("/")
        if not name or name == ".":
            continue
        if name.startswith("/"):
            raise DeploymentError(f"{archive}: member {member.name!r} has an absolute path")
        parts = name.split("/")
        if ".." in parts:
            raise DeploymentError(f"{archive}: member {member.name!r} contains '..'")
        tops.add(parts[0])
        if len(parts) == 1:
            if not member.isdir():
                raise DeploymentError(f"{archive}: top-level member {member.name!r} is not a directory")
            continue
        relative = "/".join(parts[1:])
        if member.issym():
            target = member.linkname
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target))
            if target.startswith("/") or resolved == ".." or resolved.startswith("../"):
                raise DeploymentError(f"{archive}: symlink {member.name!r} points outside the release")
        elif member.islnk():
            target = member.linkname
            while target.startswith("./"):
                target = target[2:]
            target_parts = target.split("/")
            if target.startswith("/") or ".." in target_parts or target_parts[0] != parts[0] or len(target_parts) < 2:
                raise DeploymentError(f"{archive}: hard link {member.name!r} points outside the release")
        elif not (member.isfile() or member.isdir()):
            raise DeploymentError(f"{archive}: member {member.name!r} is not a file, directory or link")
        entries.append((member, relative))
    if len(tops) != 1:
        found = ", ".join(sorted(tops)) or "nothing"
        raise DeploymentError(f"{archive}: expected exactly one top-level directory zulip-server-*, found {found}")
    top = tops.pop()
    if not fnmatch.fnmatchcase(top, "zulip-server-*"):
        raise DeploymentError(f"{archive}: the top-level directory {top!r} is not named zulip-server-*")
    if not entries:
        raise DeploymentError(f"{archive}: the release directory {top!r} is empty")
    return top, entries


def tarball_version(tar, entries):
    for member, relative in entries:
        if relative == "version.py" and member.isfile():
            handle = tar.extractfile(member)
            if handle is not None:
                return read_version(handle.read().decode("utf-8", errors="replace"))
    return None


def extract(tar, top, entries, destination):
    """Extract entries into destination, without the top-level directory."""
    members = []
    for member, relative in entries:
        member.name = relative
        if member.islnk():
            target = member.linkname
            while target.startswith("./"):
                target = target[2:]
            member.linkname = target[len(top) + 1:]
        members.append(member)
    if hasattr(tarfile, "data_filter"):
        tar.extractall(destination, members=members, filter="data")
    else:  # Python without extraction filters; the members were checked above
        tar.extractall(destination, members=members)


def chown_tree(root, uid, gid):
    os.lchown(root, uid, gid)
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.lchown(os.path.join(directory, name), uid, gid)


def free_deployment_path(deployments_dir, now):
    moment = now
    while True:
        candidate = os.path.join(deployments_dir, moment.strftime(TIMESTAMP_FORMAT))
        if not os.path.lexists(candidate):
            return candidate
        moment += datetime.timedelta(seconds=1)


def state_unpacked(module):
    params = module.params
    archive = params["archive"]
    deployments_dir = os.path.abspath(params["deployments_dir"])
    if not os.path.isfile(archive):
        raise DeploymentError(f"archive {archive} does not exist or is not a file")
    uid, gid = resolve_ids(params["owner"], params["group"])
    sha256 = sha256_of(archive)

    existing = find_unpacked(deployments_dir, sha256)
    if existing is not None:
        version = None
        try:
            with open(os.path.join(existing, "version.py"), encoding="utf-8", errors="replace") as handle:
                version = read_version(handle.read())
        except OSError:
            pass
        return {"changed": False, "path": existing, "version": version, "sha256": sha256,
                "venv": os.path.lexists(os.path.join(existing, VENV_LINK))}

    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise DeploymentError(f"{archive} is not a readable tarball: {exc}") from None
    with tar:
        top, entries = check_members(tar, archive)
        version = tarball_version(tar, entries)
        if module.check_mode:
            path = free_deployment_path(deployments_dir, datetime.datetime.now())
            return {"changed": True, "path": path, "version": version, "sha256": sha256, "venv": False}

        if not os.path.isdir(deployments_dir):
            os.makedirs(deployments_dir, mode=0o755)
            os.chown(deployments_dir, uid, gid)
        staging = tempfile.mkdtemp(prefix=".unpack-", dir=deployments_dir)
        try:
            extract(tar, top, entries, staging)
            zproject = os.path.join(staging, "zproject")
            if not os.path.isdir(zproject):
                if os.path.lexists(zproject):
                    raise DeploymentError(f"{archive}: zproject in the release is not a directory")
                os.mkdir(zproject, 0o755)
            settings_link = os.path.join(zproject, "prod_settings.py")
            if os.path.isdir(settings_link) and not os.path.islink(settings_link):
                raise DeploymentError(f"{archive}: zproject/prod_settings.py in the release is a directory")
            if os.path.lexists(settings_link):
                os.unlink(settings_link)
            os.symlink(params["settings_path"], settings_link)
            with open(os.path.join(staging, SHA_FILE), "w", encoding="ascii") as handle:
                handle.write(sha256 + "\n")
            os.chmod(staging, 0o755)
            chown_tree(staging, uid, gid)
            path = free_deployment_path(deployments_dir, datetime.datetime.now())
            os.rename(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    replace_symlink(os.path.join(deployments_dir, "next"), path, uid, gid)
    return {"changed": True, "path": path, "version": version, "sha256": sha256, "venv": False}


def resolve_deployment(params):
    """(deployments_dir, deployment) with symlinks resolved; the deployment must be directly under deployments_dir."""
    deployments_dir = os.path.realpath(params["deployments_dir"])
    requested = params["path"]
    path = os.path.realpath(requested)
    if not os.path.isdir(path) or os.path.dirname(path) != deployments_dir:
        raise DeploymentError(f"{requested} is not a deployment directory directly under {deployments_dir}")
    if os.path.basename(path).startswith("."):
        raise DeploymentError(f"{requested} is a hidden directory, not a deployment")
    return deployments_dir, path


def state_current(module):
    params = module.params
    deployments_dir, path = resolve_deployment(params)
    uid, gid = resolve_ids(params["owner"], params["group"])

    current_link = os.path.join(deployments_dir, "current")
    last_link = os.path.join(deployments_dir, "last")
    next_link = os.path.join(deployments_dir, "next")
    for link in (current_link, last_link, next_link):
        if os.path.lexists(link) and not os.path.islink(link):
            raise DeploymentError(f"{link} exists and is not a symlink")

    previous = link_target(current_link)
    changed = False
    if previous is None or os.path.realpath(previous) != path:
        changed = True
        if not module.check_mode:
            if previous is not None:
                replace_symlink(last_link, previous, uid, gid)
            replace_symlink(current_link, path, uid, gid)
    next_target = link_target(next_link)
    if next_target is not None and os.path.realpath(next_target) == path:
        changed = True
        if not module.check_mode:
            os.unlink(next_link)
    return {"changed": changed, "path": path, "previous": previous}


def state_purged(module):
    params = module.params
    keep = params["keep"]
    if keep < 0:
        raise DeploymentError(f"keep must be 0 or more, got {keep}")
    deployments_dir = os.path.realpath(params["deployments_dir"])
    if not os.path.isdir(deployments_dir):
        return {"changed": False, "removed": []}
    protected = set()
    for name in LINK_NAMES:
        target = link_target(os.path.join(deployments_dir, name))
        if target is not None:
            protected.add(os.path.realpath(target))
    deployments = sorted(
        (
            name for name in os.listdir(deployments_dir)
            if TIMESTAMP_RE.match(name)
            and os.path.isdir(os.path.join(deployments_dir, name))
            and not os.path.islink(os.path.join(deployments_dir, name))
        ),
        reverse=True,
    )
    removed = []
    for name in deployments[keep:]:
        path = os.path.join(deployments_dir, name)
        if path in protected:
            continue
        removed.append(path)
        if not module.check_mode:
            shutil.rmtree(path)
    return {"changed": bool(removed), "removed": removed}


def lstat_or_none(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def same_content(left_path, right_path):
    """Whether two files of the same size hold the same bytes."""
    with open(left_path, "rb") as left, open(right_path, "rb") as right:
        while True:
            block = left.read(1 << 20)
            if block != right.read(1 << 20):
                return False
            if not block:
                return True


def copy_file(source, destination, mode, uid, gid):
    """Copy source to destination atomically (temporary file in the same directory, then rename over)."""
    directory, name = os.path.split(destination)
    handle, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            os.fchown(out.fileno(), uid, gid)  # before fchmod: chown may clear set-id bits
            os.fchmod(out.fileno(), mode)
        os.replace(tmp, destination)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def make_directory(path, uid, gid):
    os.mkdir(path)
    os.chmod(path, 0o755)  # not subject to the umask, unlike mkdir's mode
    os.chown(path, uid, gid)


def check_static_link(serve, relative, link, target):
    """Refuse a symlink of the serve tree whose target is absolute or leads outside the tree."""
    lexical = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target))
    resolved = os.path.realpath(link)  # also catches chains of links that climb out together
    if (
        target.startswith("/")
        or lexical == ".."
        or lexical.startswith("../")
        or (resolved != serve and not resolved.startswith(serve + os.sep))
    ):
        raise DeploymentError(f"symlink {link} -> {target} points outside {serve}; refusing to copy it")


def state_static(module):
    """Copy <deployment>/prod-static/serve over static_dir like Zulip's `cp -rT`, never deleting anything.

    One walk of the source; each destination entry is lstat()ed once, and file contents are read only when the
    sizes are equal.
    """
    params = module.params
    check_mode = module.check_mode
    path = resolve_deployment(params)[1]
    serve = os.path.join(path, "prod-static", "serve")
    if not os.path.isdir(serve):
        raise DeploymentError(
            f"{serve} does not exist or is not a directory: the deployment has no prebuilt static assets"
            " (release tarballs ship them; a Git deployment builds its own with tools/update-prod-static)"
        )
    serve = os.path.realpath(serve)
    static_dir = os.path.abspath(params["static_dir"])
    uid, gid = resolve_ids(params["owner"], params["group"])

    changed = False
    if not os.path.isdir(static_dir):
        if os.path.lexists(static_dir):
            raise DeploymentError(f"{static_dir} exists and is not a directory")
        changed = True
        if not check_mode:
            os.makedirs(os.path.dirname(static_dir), exist_ok=True)
            make_directory(static_dir, uid, gid)

    files = copied = 0
    pending = [""]
    while pending:
        relative_dir = pending.pop()
        with os.scandir(os.path.join(serve, relative_dir)) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
        for entry in entries:
            relative = posixpath.join(relative_dir, entry.name)
            destination = os.path.join(static_dir, relative)
            existing = lstat_or_none(destination)
            # Never write through a symlink of static_dir, nor replace a directory there.
            if existing is not None and stat.S_ISDIR(existing.st_mode) != entry.is_dir(follow_symlinks=False):
                if stat.S_ISDIR(existing.st_mode):
                    raise DeploymentError(f"{destination} is a directory, but {entry.path} is not")
                raise DeploymentError(f"{destination} exists and is not a directory, but {entry.path} is one")
            if entry.is_symlink():
                files += 1
                target = os.readlink(entry.path)
                check_static_link(serve, relative, entry.path, target)
                if existing is None or not stat.S_ISLNK(existing.st_mode) or os.readlink(destination) != target:
                    copied += 1
                    if not check_mode:
                        replace_symlink(destination, target, uid, gid)
            elif entry.is_dir(follow_symlinks=False):
                if existing is None:
                    changed = True
                    if not check_mode:
                        make_directory(destination, uid, gid)
                pending.append(relative)
            elif entry.is_file(follow_symlinks=False):
                files += 1
                source = entry.stat(follow_symlinks=False)
                mode = stat.S_IMODE(source.st_mode)
                if (
                    existing is None
                    or not stat.S_ISREG(existing.st_mode)
                    or existing.st_size != source.st_size
                    or stat.S_IMODE(existing.st_mode) != mode
                    or (existing.st_uid, existing.st_gid) != (uid, gid)
                    or not same_content(entry.path, destination)
                ):
                    copied += 1
                    if not check_mode:
                        copy_file(entry.path, destination, mode, uid, gid)
            else:
                raise DeploymentError(f"{entry.path} is not a file, directory or symlink")
    return {
        "changed": changed or bool(copied),
        "path": path,
        "static_dir": static_dir,
        "files": files,
        "copied": copied,
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "required": True, "choices": ["unpacked", "current", "purged", "static"]},
            "deployments_dir": {"type": "path", "default": "/home/zulip/deployments"},
            "owner": {"type": "str", "default": "zulip"},
            "group": {"type": "str", "default": "zulip"},
            "archive": {"type": "path"},
            "settings_path": {"type": "path", "default": "/etc/zulip/settings.py"},
            "path": {"type": "path"},
            "keep": {"type": "int", "default": 3},
            "static_dir": {"type": "path", "default": "/home/zulip/prod-static"},
        },
        required_if=[
            ("state", "unpacked", ("archive",)),
            ("state", "current", ("path",)),
            ("state", "static", ("path",)),
        ],
        supports_check_mode=True,
    )
    handlers = {
        "unpacked": state_unpacked,
        "current": state_current,
        "purged": state_purged,
        "static": state_static,
    }
    try:
        result = handlers[module.params["state"]](module)
    except DeploymentError as exc:
        module.fail_json(msg=str(exc))
    except (OSError, tarfile.TarError) as exc:
        module.fail_json(msg=f"{type(exc).__name__}: {exc}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
