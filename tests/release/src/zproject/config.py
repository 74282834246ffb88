# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.  Written from scratch for those tests.
"""Configuration loading: settings (Python), secrets and zulip.conf (INI).

Settings are read from zproject/prod_settings.py, which deploy tooling must
symlink to /etc/zulip/settings.py (exactly as with a real release).  Tests may
point elsewhere with $ZULIP_SETTINGS_PATH; $ZULIP_SECRETS_PATH and
$ZULIP_CONF_PATH override /etc/zulip/zulip-secrets.conf and /etc/zulip/zulip.conf.
"""
import configparser
import os

DEPLOY_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ConfigError(Exception):
    pass


DEFAULTS = {
    "EXTERNAL_HOST": None,
    "ZULIP_ADMINISTRATOR": None,
    "REMOTE_POSTGRES_HOST": "",
    "REMOTE_POSTGRES_PORT": "",
    "REMOTE_POSTGRES_SSLMODE": None,  # "verify-full" when a host is set
    "REMOTE_POSTGRES_SSLROOTCERT": "",
    "MEMCACHED_LOCATION": "127.0.0.1:11211",
    "MEMCACHED_USERNAME": "zulip@localhost",
    "RABBITMQ_HOST": "127.0.0.1",
    "RABBITMQ_PORT": 5672,
    "RABBITMQ_USERNAME": "zulip",
    "RABBITMQ_VHOST": "/",
    "REDIS_HOST": "127.0.0.1",
    "REDIS_PORT": 6379,
}

REQUIRED_SETTINGS = ["EXTERNAL_HOST", "ZULIP_ADMINISTRATOR"]
REQUIRED_SECRETS = ["secret_key", "shared_secret", "rabbitmq_password"]


class Settings:
    def __init__(self):
        self.settings_path = os.environ.get("ZULIP_SETTINGS_PATH") or os.path.join(
            DEPLOY_DIR, "zproject", "prod_settings.py"
        )
        self.secrets_path = os.environ.get(
            "ZULIP_SECRETS_PATH", "/etc/zulip/zulip-secrets.conf"
        )
        self.conf_path = os.environ.get("ZULIP_CONF_PATH", "/etc/zulip/zulip.conf")
        self._load()

    def _load(self):
        if not os.path.exists(self.settings_path):
            raise ConfigError(
                f"Settings file {self.settings_path} not found.  Deploy tooling must "
                "symlink zproject/prod_settings.py -> /etc/zulip/settings.py."
            )
        namespace = {"__file__": self.settings_path}
        try:
            with open(self.settings_path) as f:
                code = compile(f.read(), self.settings_path, "exec")
            exec(code, namespace)
        except OSError as e:
            raise ConfigError(f"Cannot read settings {self.settings_path}: {e}")
        except Exception as e:  # syntax errors etc. in the admin's file
            raise ConfigError(f"Error in settings {self.settings_path}: {e!r}")
        for key, default in DEFAULTS.items():
            setattr(self, key, namespace.get(key, default))
        for key in REQUIRED_SETTINGS:
            if not getattr(self, key):
                raise ConfigError(f"Required setting {key} is missing in {self.settings_path}")
        if self.REMOTE_POSTGRES_SSLMODE is None:
            self.REMOTE_POSTGRES_SSLMODE = "verify-full" if self.REMOTE_POSTGRES_HOST else ""

        self.secrets = {}
        secrets = configparser.RawConfigParser()
        try:
            with open(self.secrets_path) as f:
                secrets.read_file(f)
        except OSError as e:
            raise ConfigError(f"Cannot read secrets file {self.secrets_path}: {e}")
        if secrets.has_section("secrets"):
            self.secrets = dict(secrets.items("secrets"))
        for key in REQUIRED_SECRETS:
            if not self.secrets.get(key):
                raise ConfigError(f"Required secret {key} is missing in {self.secrets_path}")
        if self.REMOTE_POSTGRES_HOST and not self.secrets.get("postgres_password"):
            raise ConfigError(
                "REMOTE_POSTGRES_HOST is set but secret postgres_password is missing "
                f"in {self.secrets_path}"
            )

        conf = configparser.RawConfigParser()
        try:
            conf.read(self.conf_path)
        except configparser.Error as e:
            raise ConfigError(f"Cannot parse {self.conf_path}: {e}")
        self.DATABASE_NAME = conf.get("postgresql", "database_name", fallback="zulip")
        self.DATABASE_USER = conf.get("postgresql", "database_user", fallback="zulip")

    def get_secret(self, key, default=None):
        value = self.secrets.get(key)
        return value if value else default

    def external_host_name(self):
        """EXTERNAL_HOST without any :port suffix."""
        return self.EXTERNAL_HOST.rsplit(":", 1)[0] if ":" in self.EXTERNAL_HOST else self.EXTERNAL_HOST

    def database_params(self):
        params = {
            "dbname": self.DATABASE_NAME,
            "user": self.DATABASE_USER,
            "connect_timeout": 10,
            "application_name": "zulip-test-double",
        }
        password = self.get_secret("postgres_password")
        if self.REMOTE_POSTGRES_HOST:
            params["host"] = self.REMOTE_POSTGRES_HOST
            if "," in self.REMOTE_POSTGRES_HOST:
                params["target_session_attrs"] = "read-write"
            params["port"] = str(self.REMOTE_POSTGRES_PORT or 5432)
            if self.REMOTE_POSTGRES_SSLMODE:
                params["sslmode"] = self.REMOTE_POSTGRES_SSLMODE
            if self.REMOTE_POSTGRES_SSLROOTCERT:
                params["sslrootcert"] = self.REMOTE_POSTGRES_SSLROOTCERT
            params["password"] = password
        else:
            # Unix socket, peer authentication as the current OS user.
            if self.REMOTE_POSTGRES_PORT:
                params["port"] = str(self.REMOTE_POSTGRES_PORT)
            if password:
                params["password"] = password
        return params


_settings = None


def get_settings():
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings
