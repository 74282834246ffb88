# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip's schema.  Shipped by the 9.x releases.
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("zerver", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Attachment",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("file_name", models.TextField()),
                ("path_id", models.TextField(unique=True)),
                ("content_type", models.TextField(null=True)),
                ("size", models.IntegerField()),
                ("create_time", models.DateTimeField(default=django.utils.timezone.now)),
                ("owner", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="zerver.userprofile")),
                ("realm", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="zerver.realm")),
            ],
        ),
    ]
