from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.zulip.server.plugins.filter import migrations
from ansible_collections.zulip.server.plugins.filter.migrations import zulip_showmigrations

OUTPUT = """\
analytics
 [X] 0001_initial
zerver
 [X] 0001_initial
 [ ] 0002_message_edit_history
 [-] 0003_squashed (2 squashed migrations) Run 'manage.py migrate' to finish recording.
 [ ] 0004_after_the_squash
sessions
 (no migrations)
"""


def test_filter_module_lists_the_filter():
    assert list(migrations.FilterModule().filters()) == ["zulip_showmigrations"]


def test_known_applied_and_unapplied_per_app():
    result = zulip_showmigrations(OUTPUT)
    assert result == {
        "known": ["analytics.0001_initial", "zerver.0001_initial", "zerver.0002_message_edit_history",
                  "zerver.0003_squashed", "zerver.0004_after_the_squash"],
        # [-]: Django counts a squash whose replaced migrations are all applied
        # as applied, only not recorded yet (Zulip's upgrade counts [ ] only).
        "applied": ["analytics.0001_initial", "zerver.0001_initial", "zerver.0003_squashed"],
        "unapplied": ["zerver.0002_message_edit_history", "zerver.0004_after_the_squash"],
    }


def test_schema_ahead_of_an_older_release():
    newer = zulip_showmigrations("zerver\n [X] 0001_initial\n [X] 0002_message_edit_history\n")
    older = zulip_showmigrations("zerver\n [X] 0001_initial\n")
    assert sorted(set(newer["applied"]) - set(older["known"])) == ["zerver.0002_message_edit_history"]


def test_empty_output_is_an_empty_schema():
    assert zulip_showmigrations("") == {"known": [], "applied": [], "unapplied": []}


@pytest.mark.parametrize(
    "text",
    [
        "Traceback (most recent call last):\n  File x\n",
        " [X] 0001_initial\n",  # no app line first
        "zerver\nsettings.py is missing: cannot run\n",
    ],
)
def test_anything_else_fails(text):
    with pytest.raises(AnsibleFilterError):
        zulip_showmigrations(text)


def test_non_string_fails():
    with pytest.raises(AnsibleFilterError):
        zulip_showmigrations(None)
