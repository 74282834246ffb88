#!/usr/bin/python3
# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT corepack: the stand-in for
# lib/node_modules/corepack/dist/corepack.js of a Node.js release tarball
# (bin/corepack links to it).
"""corepack enable [--install-directory DIR]: links DIR/pnpm (DIR: the
directory of the corepack the caller ran, e.g. /usr/local/bin) to pnpm.js
beside this file (its real path, as Node resolves modules), with a relative
link as corepack makes it; an existing pnpm is replaced.  Nothing else."""
import os
import sys

USAGE = "Usage: corepack enable [--install-directory DIR]\n"


def main(argv):
    if not argv or argv[0] != "enable":
        sys.stderr.write(f"corepack (Zulip test double): only `enable` is implemented\n{USAGE}")
        return 1
    install_dir = os.path.dirname(os.path.abspath(sys.argv[0]))
    rest = argv[1:]
    if rest[:1] == ["--install-directory"] and len(rest) >= 2:
        install_dir, rest = rest[1], rest[2:]
    if rest not in ([], ["pnpm"]):
        sys.stderr.write(f"corepack (Zulip test double): unsupported arguments {rest}\n{USAGE}")
        return 1
    target = os.path.join(os.path.dirname(os.path.realpath(__file__)), "pnpm.js")
    link = os.path.join(install_dir, "pnpm")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.relpath(target, os.path.realpath(install_dir)), link)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
