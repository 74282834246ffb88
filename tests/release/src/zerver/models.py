# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip's models: a small stand-in with Zulip's table
# names (zerver_realm, zerver_userprofile, zerver_message, ...).
import os
import secrets
import string

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

# Releases >= 10.0 ship migration 0004, which adds zerver_message.edit_history;
# their code relies on the column (so it needs the migration applied).
HAS_EDIT_HISTORY = os.path.exists(os.path.join(os.path.dirname(__file__), "migrations", "0004_message_edit_history.py"))


class Realm(models.Model):
    string_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=40)
    date_created = models.DateTimeField(default=timezone.now)
    deactivated = models.BooleanField(default=False)

    @property
    def host(self):
        return f"{self.string_id}.{settings.EXTERNAL_HOST}" if self.string_id else settings.EXTERNAL_HOST

    @property
    def url(self):
        return f"https://{self.host}"


def generate_api_key():
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


class UserProfile(AbstractBaseUser):
    ROLE_REALM_OWNER = 100
    ROLE_REALM_ADMINISTRATOR = 200
    ROLE_MEMBER = 400

    realm = models.ForeignKey(Realm, on_delete=models.CASCADE)
    email = models.EmailField(max_length=254, db_index=True)
    full_name = models.CharField(max_length=100)
    api_key = models.CharField(max_length=32, unique=True, default=generate_api_key)
    is_bot = models.BooleanField(default=False)
    bot_type = models.PositiveSmallIntegerField(null=True)
    role = models.PositiveSmallIntegerField(default=ROLE_MEMBER)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list = []
    objects = BaseUserManager()

    class Meta:
        unique_together = [("realm", "email")]

    @property
    def is_realm_admin(self):
        return self.role <= self.ROLE_REALM_ADMINISTRATOR


class Stream(models.Model):
    realm = models.ForeignKey(Realm, on_delete=models.CASCADE)
    name = models.CharField(max_length=60)

    class Meta:
        unique_together = [("realm", "name")]


class Message(models.Model):
    realm = models.ForeignKey(Realm, on_delete=models.CASCADE)
    sender = models.ForeignKey(UserProfile, on_delete=models.CASCADE)
    stream = models.ForeignKey(Stream, null=True, on_delete=models.CASCADE)
    direct_recipients = models.TextField(null=True)  # "id,id,..." of a direct message
    subject = models.CharField(max_length=60, default="")
    content = models.TextField()
    date_sent = models.DateTimeField(default=timezone.now)
    if HAS_EDIT_HISTORY:
        edit_history = models.TextField(null=True)


class UserActivity(models.Model):
    user_profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE)
    query = models.CharField(max_length=50)
    count = models.IntegerField()
    last_visit = models.DateTimeField()

    class Meta:
        unique_together = [("user_profile", "query")]


class RealmCreationKey(models.Model):
    creation_key = models.CharField(max_length=40, unique=True)
    date_created = models.DateTimeField(default=timezone.now)


class Attachment(models.Model):
    realm = models.ForeignKey(Realm, on_delete=models.CASCADE)
    owner = models.ForeignKey(UserProfile, on_delete=models.CASCADE)
    file_name = models.TextField()
    path_id = models.TextField(unique=True)
    content_type = models.TextField(null=True)
    size = models.IntegerField()
    create_time = models.DateTimeField(default=timezone.now)
