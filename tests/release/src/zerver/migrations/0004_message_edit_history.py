# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip's schema.  New in 10.0: a schema change that
# 10.x code relies on (zerver/models.py reads and writes the column).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("zerver", "0001_squashed_0003")]

    operations = [
        migrations.AddField(model_name="message", name="edit_history", field=models.TextField(null=True)),
        migrations.RunSQL(
            "CREATE INDEX zerver_message_realm_stream_subject ON zerver_message (realm_id, stream_id, lower(subject))",
            "DROP INDEX zerver_message_realm_stream_subject",
        ),
    ]
