"""The replication tests and the failover drills (failover/tests/conftest.py
is this file) use the install scenarios' helpers and fixtures
(molecule/resources/tests/lab_helpers.py).

Where they run with the install tests (scenario split), each test module
starts from the cluster the previous ones left: the install tests first (the
organization's before anything creates one), then the replication tests on
the cluster as installed, then the drills, which change its topology."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "resources" / "tests"))
import lab_helpers as lab_common  # noqa: E402

app_host = lab_common.app_host
zuliprc = lab_common.zuliprc

ORDER = ["test_admin_organization", "test_app", "test_services", "test_outgoing_proxy", "test_bad_inputs",
         "test_upgrade_cluster", "test_replication", "test_failover", "test_backup", "test_monitoring",
         "test_monitoring_failures"]


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.module.__name__.rsplit(".", 1)[-1]
        return ORDER.index(name) if name in ORDER else len(ORDER)

    items.sort(key=rank)  # stable: each module's own order is kept
