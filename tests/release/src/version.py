# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  build.sh overwrites this file per release.
ZULIP_VERSION = "0.0+src"
ZULIP_MERGE_BASE = "0.0+src"
API_FEATURE_LEVEL = 0
