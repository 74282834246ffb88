# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip's schema.  Shipped by the 9.x releases;
# 10.x replaces 0001-0003 with 0001_squashed_0003.
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import zerver.models

from ._common import OPERATIONS


class Migration(migrations.Migration):
    initial = True
    dependencies = [("auth", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Realm",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("string_id", models.CharField(max_length=40, unique=True)),
                ("name", models.CharField(max_length=40)),
                ("date_created", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name="UserProfile",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("password", models.CharField(max_length=128, verbose_name="password")),
                ("last_login", models.DateTimeField(blank=True, null=True, verbose_name="last login")),
                ("email", models.EmailField(db_index=True, max_length=254)),
                ("full_name", models.CharField(max_length=100)),
                ("api_key", models.CharField(default=zerver.models.generate_api_key, max_length=32, unique=True)),
                ("is_bot", models.BooleanField(default=False)),
                ("bot_type", models.PositiveSmallIntegerField(null=True)),
                ("role", models.PositiveSmallIntegerField(default=400)),
                ("is_active", models.BooleanField(default=True)),
                ("date_joined", models.DateTimeField(default=django.utils.timezone.now)),
                ("realm", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="zerver.realm")),
            ],
            options={"unique_together": {("realm", "email")}},
        ),
        migrations.CreateModel(
            name="Stream",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=60)),
                ("realm", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="zerver.realm")),
            ],
            options={"unique_together": {("realm", "name")}},
        ),
        migrations.CreateModel(
            name="Message",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("direct_recipients", models.TextField(null=True)),
                ("subject", models.CharField(default="", max_length=60)),
                ("content", models.TextField()),
                ("date_sent", models.DateTimeField(default=django.utils.timezone.now)),
                ("realm", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="zerver.realm")),
                ("sender", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="zerver.userprofile")),
                ("stream", models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, to="zerver.stream")),
            ],
        ),
        migrations.CreateModel(
            name="UserActivity",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("query", models.CharField(max_length=50)),
                ("count", models.IntegerField()),
                ("last_visit", models.DateTimeField()),
                ("user_profile", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="zerver.userprofile")),
            ],
            options={"unique_together": {("user_profile", "query")}},
        ),
        migrations.CreateModel(
            name="RealmCreationKey",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("creation_key", models.CharField(max_length=40, unique=True)),
                ("date_created", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        *OPERATIONS,
    ]
