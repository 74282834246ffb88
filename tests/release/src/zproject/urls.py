# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""The URLs of Zulip's that the double serves (zproject/urls.py): the REST
API subset the `zulip` client and the collection's tests use, /health,
uploads, the logged-out pages and the realm creation link.  The 10.x
releases add tusd's hook endpoint, api/internal/tusd (Zulip 10's
zerver/views/tusd.py); 9.x has no zerver/tusd.py, so no such route."""
import importlib.util

from django.urls import path, re_path

from zerver import views

urlpatterns = [
    path("", views.home),
    path("login/", views.login_page),
    path("new/<str:creation_key>", views.realm_creation_link),
    path("health", views.health),
    path("api/v1/server_settings", views.server_settings),
    path("api/v1/fetch_api_key", views.fetch_api_key),
    path("api/v1/users/me", views.users_me),
    path("api/v1/users", views.list_users),
    path("api/v1/bots", views.create_bot),
    path("api/v1/users/me/subscriptions", views.subscriptions),
    path("api/v1/messages", views.messages),
    path("api/v1/register", views.register),
    re_path(r"^(?:api/v1|json)/user_uploads$", views.upload_file),
    re_path(r"^user_uploads/(?P<realm_id>\d+)/(?P<filename>.+)$", views.serve_file),
]
if importlib.util.find_spec("zerver.tusd") is not None:
    from zerver import tusd

    urlpatterns.append(path("api/internal/tusd", tusd.handle_tusd_hook))
