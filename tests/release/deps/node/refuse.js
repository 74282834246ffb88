#!/usr/bin/python3
# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Node.js: npm, npx and pnpm of the Node.js stand-in
# (a Zulip server runs none of them).
import os
import sys

sys.stderr.write(f"{os.path.basename(sys.argv[0])}: not available in the Zulip test double's Node.js\n")
sys.exit(1)
