# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Zulip's two configuration files, read the way Zulip reads them
(zproject/config.py): /etc/zulip/zulip-secrets.conf ([secrets]) and
/etc/zulip/zulip.conf, both INI.  Booleans of zulip.conf use Zulip's list of
true words.  $ZULIP_SECRETS_CONF and $ZULIP_CONF point elsewhere (the double's
own offline tests only)."""
import configparser
import os

DEPLOY_ROOT = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRETS_PATH = os.environ.get("ZULIP_SECRETS_CONF", "/etc/zulip/zulip-secrets.conf")
CONF_PATH = os.environ.get("ZULIP_CONF", "/etc/zulip/zulip.conf")
TRUE_WORDS = ("1", "y", "t", "true", "yes", "enable", "enabled")

_secrets = None
_config = None


def _read(path):
    parser = configparser.RawConfigParser()
    parser.read(path)  # a missing file reads as empty, as in Zulip
    return parser


def get_secret(key, default=None):
    global _secrets
    if _secrets is None:
        _secrets = _read(SECRETS_PATH)
    if _secrets.has_option("secrets", key):
        return _secrets.get("secrets", key)
    return default


def get_mandatory_secret(key):
    value = get_secret(key)
    if value is None:
        if os.environ.get("DISABLE_MANDATORY_SECRET_CHECK") == "True":
            return ""
        raise KeyError(f"Mandatory secret {key!r} is not set in {SECRETS_PATH}")
    return value


def get_config(section, key, default=None):
    global _config
    if _config is None:
        _config = _read(CONF_PATH)
    if not _config.has_option(section, key):
        return default
    value = _config.get(section, key)
    if isinstance(default, bool):
        return value.strip().lower() in TRUE_WORDS
    return value
