"""The fixtures of lab_helpers, for the tests in this directory."""

from lab_helpers import app_host, zuliprc  # noqa: F401
