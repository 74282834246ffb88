# Copyright: contributors to the zulip.server collection
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Look at a host in one call: paths, systemd units, accounts, dpkg
diversions and the output of read-only commands. Shared by zulip_probe
(each role's first look at its host) and zulip_host_state.

A role asks once what its tasks would otherwise each ask (a stat, a getent,
an is-enabled, a `creates:`), and skips every task whose state already holds:
on a converged host most of a run is then this one call. The answers are
facts about the host as it is, never a record of what an earlier run did,
so drift is still found."""

from __future__ import annotations

import concurrent.futures
import grp
import hashlib
import os
import pwd
import stat
import subprocess

# The argument spec of the probe options, shared by the modules.
PROBE_SPEC = {
    "paths": {"type": "list", "elements": "path", "default": []},
    "read": {"type": "list", "elements": "path", "default": []},
    "checksums": {"type": "list", "elements": "path", "default": []},
    "units": {"type": "list", "elements": "str", "default": []},
    "users": {"type": "list", "elements": "str", "default": []},
    "groups": {"type": "list", "elements": "str", "default": []},
    "diversions": {"type": "list", "elements": "path", "default": []},
    "commands": {"type": "dict", "default": {}},
}

_TYPES = ((stat.S_ISLNK, "link"), (stat.S_ISDIR, "directory"), (stat.S_ISREG, "file"))


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def path_state(path):
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return {"exists": False, "type": None, "mode": None, "owner": None, "group": None, "size": None,
                "mtime": None, "target": None, "writable": False}
    kind = next((name for test, name in _TYPES if test(st.st_mode)), "other")
    return {"exists": True, "type": kind, "mode": f"{stat.S_IMODE(st.st_mode):04o}",
            "owner": _name(pwd.getpwuid, st.st_uid), "group": _name(grp.getgrgid, st.st_gid), "size": st.st_size,
            "mtime": st.st_mtime, "target": os.readlink(path) if kind == "link" else None,
            # Not only the mode: a read-only mount (/proc/sys in a container) says no.
            "writable": os.access(path, os.W_OK)}


# Files larger than this are not read (the probe answers null).
READ_LIMIT = 1 << 20


def text_of(path):
    """A small regular file's text, or None."""
    if not os.path.isfile(path) or os.path.getsize(path) > READ_LIMIT:
        return None
    with open(path, "rb") as handle:
        return handle.read().decode(errors="replace")


def sha256_of(path):
    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(argv, timeout=120, chdir=None, user=None):
    """(rc, stdout, stderr); rc 127 when the program cannot be started. With user, as that
    user (runuser), with the user's HOME, as Ansible's become_user would."""
    env = dict(os.environ, LC_ALL="C")
    if user is not None:
        try:
            env["HOME"] = pwd.getpwnam(user).pw_dir
        except KeyError:
            return 127, "", f"no such user: {user}"
        argv = ["runuser", "-u", user, "--", *argv]
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=timeout,
                              env=env, cwd=chdir)
    except (OSError, subprocess.TimeoutExpired) as error:
        return 127, "", str(error)
    return done.returncode, done.stdout, done.stderr


def parse_systemctl_show(text):
    """systemctl show's blocks (one per unit, blank-line separated) as dicts."""
    blocks, current = [], {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current = {}
            continue
        key, _, value = line.partition("=")
        current[key] = value
    if current:
        blocks.append(current)
    return blocks


ENABLED_STATES = {"enabled", "enabled-runtime", "static", "generated", "alias", "indirect"}


def units_state(names, runner=run):
    if not names:
        return {}
    rc, out, _ = runner(["systemctl", "show", "--property=Id,LoadState,ActiveState,UnitFileState", "--", *names])
    blocks = parse_systemctl_show(out) if rc == 0 else []
    result = {}
    # systemctl answers in the order asked, one block per unit.
    for index, name in enumerate(names):
        block = blocks[index] if index < len(blocks) else {}
        result[name] = {
            "loaded": block.get("LoadState") == "loaded",
            "active": block.get("ActiveState") == "active",
            "enabled": block.get("UnitFileState") in ENABLED_STATES,
            "state": block.get("ActiveState"),
            "file_state": block.get("UnitFileState"),
        }
    return result


def user_state(name):
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"exists": False, "uid": None, "group": None, "groups": [], "home": None, "shell": None}
    return {"exists": True, "uid": entry.pw_uid, "group": _name(grp.getgrgid, entry.pw_gid),
            "groups": sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem),
            "home": entry.pw_dir, "shell": entry.pw_shell}


def group_state(name):
    try:
        entry = grp.getgrnam(name)
    except KeyError:
        return {"exists": False, "gid": None, "members": []}
    return {"exists": True, "gid": entry.gr_gid, "members": sorted(entry.gr_mem)}


def diversions_state(paths, runner=run):
    if not paths:
        return {}
    rc, out, _ = runner(["dpkg-divert", "--list"])
    diverted = {}
    if rc == 0:
        # "local diversion of /a to /a.disabled", "diversion of /a to /b by pkg"
        for line in out.splitlines():
            words = line.split()
            if "of" in words and "to" in words:
                source = words[words.index("of") + 1]
                diverted[source] = words[words.index("to") + 1]
    return {path: diverted.get(path) for path in paths}


def command_spec(name, spec):
    """(argv, chdir, user) of a command given as an argv list or as {argv, chdir, user}."""
    if isinstance(spec, dict):
        argv, chdir, user = spec.get("argv"), spec.get("chdir"), spec.get("user")
    else:
        argv, chdir, user = spec, None, None
    if isinstance(argv, str) or not isinstance(argv, (list, tuple)) or not argv:
        raise ValueError(f"commands.{name} must be a non-empty argv list, or a dict with one as argv")
    return [str(arg) for arg in argv], chdir, user


def run_commands(commands, runner=run):
    """Every command at once (they only read, and a release's commands each start Python)."""
    specs = {name: command_spec(name, spec) for name, spec in (commands or {}).items()}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
        futures = {name: pool.submit(runner, argv, chdir=chdir, user=user)
                   for name, (argv, chdir, user) in specs.items()}
        return {name: dict(zip(("rc", "stdout", "stderr"), future.result())) for name, future in futures.items()}


def probe(params, runner=run):
    """The answers to every question of params (PROBE_SPEC's options)."""
    commands = run_commands(params.get("commands"), runner)
    return {
        "paths": {path: path_state(path) for path in params.get("paths") or []},
        "checksums": {path: sha256_of(path) for path in params.get("checksums") or []},
        "contents": {path: text_of(path) for path in params.get("read") or []},
        "units": units_state(params.get("units") or [], runner),
        "users": {name: user_state(name) for name in params.get("users") or []},
        "groups": {name: group_state(name) for name in params.get("groups") or []},
        "diversions": diversions_state(params.get("diversions") or [], runner),
        "commands": commands,
    }
