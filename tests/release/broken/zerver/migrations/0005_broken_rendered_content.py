# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Shipped ONLY in dist/broken/: this migration
# FAILS ON PURPOSE (a SQL error inside its transaction, which PostgreSQL rolls
# back), to exercise the collection's automatic rollback.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("zerver", "0004_message_edit_history")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE zerver_message ADD COLUMN rendered_content text; "
            "UPDATE zerver_message SET rendered_content = no_such_column;",
        ),
    ]
