# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from zerver.lib.daemons import PeriodicCommand as Command  # noqa: F401
