#!/usr/bin/env python3
# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Append the secrets this release needs and /etc/zulip/zulip-secrets.conf
lacks, as Zulip's scripts/setup/generate_secrets.py --production does: never
changes a value that is there; memcached_password and redis_password only
for the local services' default addresses (read from the settings).  The
10.x double adds one secret 9.x did not have (double_10x_key), standing in
for the keys new Zulip releases add."""
import argparse
import configparser
import os
import secrets
import sys
import uuid

BASE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, BASE_DIR)
from scripts.lib.setup_path import setup_path  # noqa: E402

setup_path()
os.chdir(BASE_DIR)
os.environ["DISABLE_MANDATORY_SECRET_CHECK"] = "True"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zproject.settings")

import version  # noqa: E402
from zproject.config import CONF_PATH, SECRETS_PATH  # noqa: E402

ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SECRET_KEY_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"


def random_string(length, alphabet=ALNUM):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def settings():
    from django.conf import settings as django_settings

    return django_settings


def main():
    parser = argparse.ArgumentParser()
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--development", action="store_true", dest="development")
    mode.add_argument("--production", action="store_false", dest="development")
    if parser.parse_args().development:
        sys.exit("The test double only has a production mode.")

    old = configparser.RawConfigParser()
    if os.path.exists(SECRETS_PATH) and os.path.getsize(SECRETS_PATH) > 0:
        old.read(SECRETS_PATH)
    have = dict(old.items("secrets")) if old.has_section("secrets") else {}
    new = {}

    def need(name):
        return name not in have and name not in new

    for name in ("avatar_salt", "rabbitmq_password", "shared_secret"):
        if need(name):
            new[name] = secrets.token_hex(32)
    if need("secret_key"):
        new["secret_key"] = random_string(50, SECRET_KEY_CHARS)
    for name in ("camo_key", "zulip_org_key"):
        if need(name):
            new[name] = random_string(64)
    if need("zulip_org_id"):
        new["zulip_org_id"] = str(uuid.uuid4())
    conf = configparser.RawConfigParser()
    conf.read(CONF_PATH)
    if conf.get("postgresql", "database_user", fallback="zulip") != "zulip" and need("postgres_password"):
        new["postgres_password"] = secrets.token_hex(32)
    if need("memcached_password") and settings().MEMCACHED_LOCATION == "127.0.0.1:11211":
        new["memcached_password"] = secrets.token_hex(32)
    if need("redis_password") and settings().REDIS_HOST == "127.0.0.1":
        new["redis_password"] = secrets.token_hex(32)
        for path in ("/etc/redis/zulip-redis.conf",):
            if os.path.exists(path):
                with open(path, "a") as f:
                    f.write(f"# Set a Redis password based on zulip-secrets.conf\nrequirepass '{new['redis_password']}'\n")
                break
    if int(version.ZULIP_VERSION.split(".")[0]) >= 10 and need("double_10x_key"):
        new["double_10x_key"] = secrets.token_hex(32)

    if not new:
        print("generate_secrets: No new secrets to generate.")
        return
    with open(SECRETS_PATH, "a") as f:
        if not have:
            f.write("[secrets]\n")
        f.write("\n" + "".join(f"{name} = {value}\n" for name, value in new.items()))
    print(f"Generated new secrets in {SECRETS_PATH}.")


if __name__ == "__main__":
    main()
