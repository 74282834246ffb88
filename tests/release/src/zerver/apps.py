# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
from django.apps import AppConfig
from django.db.models.signals import pre_migrate


def _zulip_schema(sender, using, **kwargs):
    # As Zulip's zerver app: its tables live in the `zulip` schema.
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute("CREATE SCHEMA IF NOT EXISTS zulip")
        cursor.execute("SET search_path = zulip,public")


class ZerverConfig(AppConfig):
    name = "zerver"
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from zerver import checks  # noqa: F401  (registers zulip.E001/E002)

        pre_migrate.connect(_zulip_schema, sender=self)
