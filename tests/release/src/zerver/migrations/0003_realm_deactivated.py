# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip's schema.  Shipped by the 9.x releases.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("zerver", "0002_attachment")]

    operations = [
        migrations.AddField(model_name="realm", name="deactivated", field=models.BooleanField(default=False)),
    ]
