# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Authentication backends AUTHENTICATION_BACKENDS may name (zproject/backends.py)."""
from django.contrib.auth.backends import BaseBackend

from zerver.models import UserProfile


class EmailAuthBackend(BaseBackend):
    """Email address and password, within one realm."""

    def authenticate(self, request, username=None, password=None, realm=None, **kwargs):
        if username is None or password is None or realm is None:
            return None
        user = UserProfile.objects.filter(realm=realm, email__iexact=username, is_active=True).first()
        if user is not None and user.check_password(password):
            return user
        return None

    def get_user(self, user_id):
        return UserProfile.objects.filter(id=user_id).first()
