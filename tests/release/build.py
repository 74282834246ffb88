# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  Called by build.sh; builds dist/ from src/.
"""Assemble the test-double releases:

  dist/zulip-server-{9.4,10.0,10.1}.tar.gz + dist/SHA256SUMS
  dist/broken/zulip-server-10.2.tar.gz (+ SHA256SUMS)  -- migration 0005 fails
  dist/unstartable/zulip-server-10.2.tar.gz (+ SHA256SUMS)  -- its WSGI
      application cannot be loaded (overlay unstartable/)
  dist/unhealthy/zulip-server-10.2.tar.gz (+ SHA256SUMS)  -- starts, but its
      /health answers 500 (overlay unhealthy/)
  dist/zulip.git  -- bare repo, branch main, tags 9.4 10.0 10.1 (no prebuilt assets)
  dist/deps/  -- stand-ins for the third-party artifacts Zulip's Puppet
      downloads by sha256 (zulip::external_dep), under Zulip's versions:
      go<GO>.linux-{amd64,arm64}.tar.gz, smokescreen-<commit>.tar.gz,
      go-camo-<version>.go<GO>.linux-{amd64,arm64}.tar.gz,
      tusd_linux_{amd64,arm64}.tar.gz,
      node-v<version>-linux-{x64,arm64}.tar.xz for each Node.js version a
      release pins in its scripts/lib/install-node (+ SHA256SUMS)

Skips all work when dist/.stamp matches the hash of the inputs.  The Python
requirements (src/requirements/prod.txt, pinned with hashes) are downloaded
from PyPI once into the wheel cache ($ZULIP_DOUBLE_WHEELS, default
<repository>/.cache/release-wheels) and shipped in each release's
wheelhouse/; later builds are offline.
"""
import gzip
import hashlib
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
REQUIREMENTS = os.path.join(SRC, "requirements", "prod.txt")
WHEELS = os.environ.get("ZULIP_DOUBLE_WHEELS",
                        os.path.join(os.path.dirname(os.path.dirname(HERE)), ".cache", "release-wheels"))
# Files laid over the release tree of each failing variant.
BROKEN_OVERLAY = os.path.join(HERE, "broken")
UNSTARTABLE_OVERLAY = os.path.join(HERE, "unstartable")
UNHEALTHY_OVERLAY = os.path.join(HERE, "unhealthy")
DIST = os.path.join(HERE, "dist")
# Stand-in sources of the external dependencies (deps/), built into dist/deps/
# under the versions Zulip pins (puppet/zulip/manifests/common.pp).
DEPS = os.path.join(HERE, "deps")
GO_VERSION = "1.25.3"
SMOKESCREEN_COMMIT = "3ec99c08f3a42840e6a5c9a47d0f85c6d591f52c"
GO_CAMO_VERSION, GO_CAMO_GOVERSION = "2.7.1", "1252"
# tusd's release tarballs carry no version in their names (tusd_linux_<arch>);
# Zulip's Puppet pins 2.8.0, which the stand-in (deps/tusd/tusd) reports.
TUSD_VERSION = "2.8.0"
# Node.js, as each release's scripts/lib/install-node pins it (Zulip 9.x:
# 20.12.2); the stand-in archives (from deps/node/) are built first so that
# install-node carries their sha256, as Zulip's carries nodejs.org's.
NODE_ARCHES = {"x86_64": "x64", "aarch64": "arm64"}  # uname -m -> Node's name
NODE_SHA256 = {}  # version -> {Node arch: sha256}, filled by build_node()


def node_version(release):
    return "20.12.2" if int(release.split(".")[0]) < 10 else "22.14.0"


STAMP = os.path.join(DIST, ".stamp")
MTIME = 1704067200  # 2024-01-01T00:00:00Z, for reproducible tarballs

# 9.x ships three zerver migrations; 10.x replaces them with one squash (as
# Zulip 10's 0001_squashed_0569 replaces 545) and adds 0004.
MIGRATIONS_9 = ["0001_initial", "0002_attachment", "0003_realm_deactivated"]
MIGRATIONS_10 = ["0001_squashed_0003", "0004_message_edit_history"]
# version, feature level, zerver migrations shipped, git commit date
RELEASES = [
    ("9.4", 278, MIGRATIONS_9, "2024-11-20T12:00:00+00:00"),
    ("10.0", 334, MIGRATIONS_10, "2025-03-20T12:00:00+00:00"),
    ("10.1", 335, MIGRATIONS_10, "2025-04-01T12:00:00+00:00"),
]
BROKEN = ("10.2", 336, MIGRATIONS_10 + ["0005_broken_rendered_content"])
# 10.2 with 10.1's schema, for the variants that fail after the switch:
# unstartable (its application fails to load) and unhealthy (its /health fails).
LATE_10_2 = ("10.2", 336, MIGRATIONS_10)
VARIANTS = [("broken", BROKEN, BROKEN_OVERLAY), ("unstartable", LATE_10_2, UNSTARTABLE_OVERLAY),
            ("unhealthy", LATE_10_2, UNHEALTHY_OVERLAY)]
GIT_ONLY = {".gitignore"}
# Zulip 10's resumable uploads (tusd): the 9.x releases, tarball and git tag,
# ship none of it.
SINCE_10 = ["zerver/management/commands/runtusd.py", "zerver/tusd.py"]


def log(msg):
    print(f"build: {msg}", flush=True)


def input_hash():
    h = hashlib.sha256()
    for base in (SRC, BROKEN_OVERLAY, UNSTARTABLE_OVERLAY, UNHEALTHY_OVERLAY, DEPS):
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, HERE).encode() + b"\0")
                h.update(b"x" if os.access(path, os.X_OK) else b"-")
                with open(path, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
    for name in ("build.py", "build.sh"):
        with open(os.path.join(HERE, name), "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def outputs():
    paths = [os.path.join(DIST, f"zulip-server-{v}.tar.gz") for v, *_ in RELEASES]
    paths += [os.path.join(DIST, "SHA256SUMS"), os.path.join(DIST, "zulip.git", "HEAD")]
    paths += [os.path.join(DIST, name, f"zulip-server-{release[0]}.tar.gz") for name, release, _ in VARIANTS]
    paths += [os.path.join(DIST, "deps", "SHA256SUMS")]
    paths += [os.path.join(DIST, "deps", f"node-v{node_version(v)}-linux-{arch}.tar.xz")
              for v, *_ in RELEASES for arch in NODE_ARCHES.values()]
    return paths


def requirements():
    """(wheel name prefix, sha256) of every pinned requirement."""
    wanted = []
    with open(REQUIREMENTS) as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            spec, _, digest = line.partition("--hash=sha256:")
            name, _, version = spec.strip().partition("==")
            wanted.append((f"{name.replace('-', '_')}-{version}", digest.strip()))
    return wanted


def fetch_wheels():
    """The pinned wheels from the cache; pip downloads the missing ones (once)."""
    def cached():
        found = {}
        for filename in sorted(os.listdir(WHEELS)) if os.path.isdir(WHEELS) else []:
            for prefix, digest in requirements():
                if filename.lower().startswith(prefix.lower() + "-") and filename.endswith(".whl"):
                    with open(os.path.join(WHEELS, filename), "rb") as f:
                        if hashlib.sha256(f.read()).hexdigest() == digest:
                            found[prefix] = filename
        return found

    found = cached()
    if len(found) < len(requirements()):
        log(f"downloading the pinned wheels into {WHEELS} (once)")
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                        "--no-deps", "--only-binary=:all:", "--require-hashes", "-r", REQUIREMENTS, "-d", WHEELS],
                       check=True)
        found = cached()
        missing = [prefix for prefix, _ in requirements() if prefix not in found]
        if missing:
            raise SystemExit(f"build: pip did not provide {', '.join(missing)}")
    return [os.path.join(WHEELS, name) for name in sorted(found.values())]


def stage(version, feature_level, migrations, dest, wheels, overlay=None):
    """Copy src/ into dest, lay the overlay's files (if any) over it, keep only
    this release's migrations, add the wheelhouse and version.py."""
    shutil.copytree(SRC, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if overlay:
        shutil.copytree(overlay, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if int(version.split(".")[0]) < 10:
        for name in SINCE_10:
            os.unlink(os.path.join(dest, name))
    mig_dir = os.path.join(dest, "zerver", "migrations")
    for name in os.listdir(mig_dir):
        if name.endswith(".py") and not name.startswith("_") and name[:-3] not in migrations:
            os.unlink(os.path.join(mig_dir, name))
    missing = [m for m in migrations if not os.path.exists(os.path.join(mig_dir, m + ".py"))]
    if missing:
        raise SystemExit(f"build: migrations not found: {missing}")
    install_node = os.path.join(dest, "scripts", "lib", "install-node")
    with open(install_node) as f:
        text = f.read()
    sums = NODE_SHA256[node_version(version)]
    text = (text.replace("@NODE_VERSION@", node_version(version))
            .replace("@NODE_SHA256_X64@", sums["x64"]).replace("@NODE_SHA256_ARM64@", sums["arm64"]))
    with open(install_node, "w") as f:
        f.write(text)
    os.makedirs(os.path.join(dest, "wheelhouse"))
    for wheel in wheels:
        shutil.copy2(wheel, os.path.join(dest, "wheelhouse"))
    with open(os.path.join(dest, "version.py"), "w") as f:
        f.write(
            "# Test double of a Zulip server release, for the zulip.server Ansible\n"
            "# collection tests.  NOT Zulip.  Generated by tests/release/build.py.\n"
            "# As Zulip's: zulip-git-version (tools/cache-zulip-git-version, or the\n"
            "# tarball's) replaces the version and gives the merge base.\n"
            "import os\n\n"
            f'ZULIP_VERSION = "{version}"\n'
            'zulip_git_version_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zulip-git-version")\n'
            'lines = [ZULIP_VERSION, ""]\n'
            "if os.path.exists(zulip_git_version_file):\n"
            "    with open(zulip_git_version_file) as f:\n"
            '        lines = [*f, "", ""]\n'
            "ZULIP_VERSION = lines.pop(0).strip()\n"
            "ZULIP_MERGE_BASE = lines.pop(0).strip()\n"
            f"API_FEATURE_LEVEL = {feature_level}\n"
            "PROVISION_VERSION = (300, 0)\n"
        )


def make_tarball(tree, top, out_path, xz=False):
    """Deterministic .tar.gz (.tar.xz with xz): sorted entries, fixed mtime,
    root:root, normal modes; symbolic links kept as links."""
    def add(tar, path, arcname):
        st = os.lstat(path)
        info = tarfile.TarInfo(arcname)
        info.mtime = MTIME
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if os.path.islink(path):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(path)
            info.mode = 0o777
            tar.addfile(info)
        elif os.path.isdir(path):
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
            for name in sorted(os.listdir(path)):
                if name in GIT_ONLY or name == "__pycache__":
                    continue
                add(tar, os.path.join(path, name), f"{arcname}/{name}")
        else:
            info.size = st.st_size
            info.mode = 0o755 if st.st_mode & 0o100 else 0o644
            with open(path, "rb") as f:
                tar.addfile(info, f)

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        add(tar, tree, top)
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as raw:
        if xz:
            raw.write(lzma.compress(buf.getvalue(), format=lzma.FORMAT_XZ, preset=6))
        else:
            with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=1) as gz:
                gz.write(buf.getvalue())
    os.replace(tmp, out_path)


def build_tarball(version, feature_level, migrations, out_dir, work, wheels, overlay=None):
    top = f"zulip-server-{version}"
    tree = os.path.join(work, "tar", os.path.basename(out_dir), top)
    stage(version, feature_level, migrations, tree, wheels, overlay)
    # Prebuilt static assets, as a release tarball ships them.
    subprocess.run([sys.executable, os.path.join(tree, "tools", "update-prod-static")], check=True,
                   stdout=subprocess.DEVNULL,
                   env=dict(os.environ, ZULIP_STATIC_ROOT=os.path.join(tree, "prod-static", "serve")))
    shutil.rmtree(os.path.join(tree, "static"))
    with open(os.path.join(tree, "zulip-git-version"), "w") as f:
        f.write(f"{version}\n{version}\n")
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, f"{top}.tar.gz")
    make_tarball(tree, top, out)
    log(f"wrote {os.path.relpath(out, HERE)}")
    return out


def write_sums(paths, sums_path):
    with open(sums_path, "w") as f:
        for path in paths:
            with open(path, "rb") as t:
                f.write(f"{hashlib.sha256(t.read()).hexdigest()}  {os.path.basename(path)}\n")


def build_node(work):
    """node-v<version>-linux-<arch>.tar.xz for each pinned Node.js version,
    laid out as nodejs.org's (bin/ links into lib/node_modules/, relative);
    records their sha256 for stage().  Returns the paths."""
    out_dir = os.path.join(DIST, "deps")
    os.makedirs(out_dir, exist_ok=True)
    outs = []
    for version in sorted({node_version(v) for v, *_ in RELEASES + [BROKEN]}):
        tree = os.path.join(work, "deps", f"node-{version}")
        for d in ("bin", "lib/node_modules/corepack/dist", "lib/node_modules/npm/bin"):
            os.makedirs(os.path.join(tree, d))
        with open(os.path.join(DEPS, "node", "node")) as f:
            text = f.read().replace("@NODE_VERSION@", version)
        with open(os.path.join(tree, "bin", "node"), "w") as f:
            f.write(text)
        os.chmod(os.path.join(tree, "bin", "node"), 0o755)
        for src, dest in [("corepack.js", "corepack/dist/corepack.js"), ("refuse.js", "corepack/dist/pnpm.js"),
                          ("refuse.js", "npm/bin/npm-cli.js"), ("refuse.js", "npm/bin/npx-cli.js")]:
            shutil.copy2(os.path.join(DEPS, "node", src), os.path.join(tree, "lib", "node_modules", dest))
        for name, target in [("corepack", "corepack/dist/corepack.js"), ("npm", "npm/bin/npm-cli.js"),
                             ("npx", "npm/bin/npx-cli.js")]:
            os.symlink(f"../lib/node_modules/{target}", os.path.join(tree, "bin", name))
        NODE_SHA256[version] = {}
        for arch in NODE_ARCHES.values():
            top = f"node-v{version}-linux-{arch}"
            outs.append(os.path.join(out_dir, f"{top}.tar.xz"))
            make_tarball(tree, top, outs[-1], xz=True)
            with open(outs[-1], "rb") as f:
                NODE_SHA256[version][arch] = hashlib.sha256(f.read()).hexdigest()
    return outs


def build_deps(work, outs):
    """The external dependencies' stand-in artifacts, laid out as Zulip
    downloads them, and SHA256SUMS of those and of outs (Node.js)."""
    out_dir = os.path.join(DIST, "deps")
    os.makedirs(out_dir, exist_ok=True)
    outs = list(outs)
    go_tree = os.path.join(work, "deps", "go")
    os.makedirs(os.path.join(go_tree, "bin"))
    shutil.copy2(os.path.join(DEPS, "golang", "go"), os.path.join(go_tree, "bin", "go"))
    for goarch in ("amd64", "arm64"):
        outs.append(os.path.join(out_dir, f"go{GO_VERSION}.linux-{goarch}.tar.gz"))
        make_tarball(go_tree, "go", outs[-1])
    camo_tree = os.path.join(work, "deps", "go-camo")
    os.makedirs(os.path.join(camo_tree, "bin"))
    shutil.copy2(os.path.join(DEPS, "go-camo", "go-camo"), os.path.join(camo_tree, "bin", "go-camo"))
    for goarch in ("amd64", "arm64"):
        outs.append(os.path.join(out_dir, f"go-camo-{GO_CAMO_VERSION}.go{GO_CAMO_GOVERSION}.linux-{goarch}.tar.gz"))
        make_tarball(camo_tree, f"go-camo-{GO_CAMO_VERSION}", outs[-1])
    tusd_tree = os.path.join(work, "deps", "tusd")
    os.makedirs(tusd_tree)
    shutil.copy2(os.path.join(DEPS, "tusd", "tusd"), os.path.join(tusd_tree, "tusd"))
    with open(os.path.join(tusd_tree, "tusd")) as f:
        if f'VERSION = "{TUSD_VERSION}"' not in f.read():
            raise SystemExit(f"build: deps/tusd/tusd does not say it is tusd {TUSD_VERSION}")
    for goarch in ("amd64", "arm64"):
        outs.append(os.path.join(out_dir, f"tusd_linux_{goarch}.tar.gz"))
        make_tarball(tusd_tree, f"tusd_linux_{goarch}", outs[-1])
    outs.append(os.path.join(out_dir, f"smokescreen-{SMOKESCREEN_COMMIT}.tar.gz"))
    make_tarball(os.path.join(DEPS, "smokescreen"), f"smokescreen-{SMOKESCREEN_COMMIT}", outs[-1])
    write_sums(outs, os.path.join(out_dir, "SHA256SUMS"))
    log("wrote dist/deps/ (" + " ".join(os.path.basename(o) for o in outs) + ")")


def build_git(work, wheels):
    repo = os.path.join(work, "git-work")
    os.makedirs(repo)
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               GIT_AUTHOR_NAME="Zulip Test Double", GIT_AUTHOR_EMAIL="test-double@example.invalid",
               GIT_COMMITTER_NAME="Zulip Test Double",
               GIT_COMMITTER_EMAIL="test-double@example.invalid")

    def git(*args, **extra):
        subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
                       cwd=repo, env=dict(env, **extra), check=True, stdout=subprocess.DEVNULL)

    git("init", "-q", "-b", "main")
    for version, feature_level, migrations, date in RELEASES:
        for name in os.listdir(repo):
            if name != ".git":
                path = os.path.join(repo, name)
                shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
        tree = os.path.join(work, "git-stage", version)
        stage(version, feature_level, migrations, tree, wheels)
        for name in os.listdir(tree):
            src = os.path.join(tree, name)
            dst = os.path.join(repo, name)
            shutil.copytree(src, dst) if os.path.isdir(src) else shutil.copy2(src, dst)
        dates = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        git("add", "-A")
        git("commit", "-q", "-m", f"Release {version} (Zulip test double)", **dates)
        git("tag", "-a", version, "-m", f"Zulip test double {version}", **dates)
    out = os.path.join(DIST, "zulip.git")
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--bare", repo, tmp], env=env, check=True)
    subprocess.run(["git", "--git-dir", tmp, "remote", "remove", "origin"], env=env, check=True)
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    log("wrote dist/zulip.git (branch main, tags " + " ".join(v for v, *_ in RELEASES) + ")")


def main():
    digest = input_hash()
    if all(os.path.exists(p) for p in outputs()) and os.path.exists(STAMP):
        with open(STAMP) as f:
            if f.read().strip() == digest:
                log("dist/ is up to date")
                return 0
    wheels = fetch_wheels()
    os.makedirs(DIST, exist_ok=True)
    if os.path.exists(STAMP):
        os.unlink(STAMP)
    with tempfile.TemporaryDirectory(prefix="zulip-double-build.") as work, ThreadPoolExecutor(4) as pool:
        node = build_node(work)  # first: stage() writes their sha256 into install-node
        # Threads: compression and the asset builds (subprocesses) release the GIL.
        git = pool.submit(build_git, work, wheels)
        tarballs = [pool.submit(build_tarball, v, fl, m, DIST, work, wheels) for v, fl, m, _ in RELEASES]
        variants = [(name, pool.submit(build_tarball, *release, os.path.join(DIST, name), work, wheels, overlay))
                    for name, release, overlay in VARIANTS]
        write_sums([t.result() for t in tarballs], os.path.join(DIST, "SHA256SUMS"))
        for name, tarball in variants:
            write_sums([tarball.result()], os.path.join(DIST, name, "SHA256SUMS"))
        git.result()
        build_deps(work, node)
    with open(STAMP, "w") as f:
        f.write(digest + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
