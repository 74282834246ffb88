# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  tests/release/build.py keeps, per release,
# the migrations that release ships.
