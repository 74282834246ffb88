# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""Clients for memcached (pylibmc, binary protocol + SASL), Redis and RabbitMQ."""
import json
import threading
import time

from zproject.config import get_settings

_local = threading.local()


# ---------------------------------------------------------------- memcached
def memcached():
    client = getattr(_local, "memcached", None)
    if client is None:
        import pylibmc

        s = get_settings()
        kwargs = {"binary": True}
        password = s.get_secret("memcached_password")
        if password:  # SASL only when a password is configured
            kwargs["username"] = s.MEMCACHED_USERNAME
            kwargs["password"] = password
        client = pylibmc.Client([s.MEMCACHED_LOCATION], **kwargs)
        _local.memcached = client
    return client


def cache_get(key):
    try:
        return memcached().get(key)
    except Exception:
        _local.memcached = None
        return None


def cache_set(key, value, timeout=3600):
    try:
        memcached().set(key, value, time=timeout)
    except Exception:
        _local.memcached = None


def cache_delete(key):
    try:
        memcached().delete(key)
    except Exception:
        _local.memcached = None


def check_memcached():
    key = "zulip-health-check"
    memcached().set(key, "ok", time=60)
    if memcached().get(key) != "ok":
        raise RuntimeError("memcached did not return the value just stored")


# ---------------------------------------------------------------- redis
def redis_client():
    client = getattr(_local, "redis", None)
    if client is None:
        import redis

        s = get_settings()
        client = redis.StrictRedis(
            host=s.REDIS_HOST,
            port=int(s.REDIS_PORT),
            password=s.get_secret("redis_password"),
            socket_timeout=5,
            socket_connect_timeout=5,
        )
        _local.redis = client
    return client


def rate_limit_hit(user_id, limit):
    """Count one request for user_id in the current minute; True if over limit."""
    key = f"zulip:ratelimit:user:{user_id}:{int(time.time() // 60)}"
    r = redis_client()
    pipe = r.pipeline()
    pipe.incr(key)
    pipe.expire(key, 60)
    count, _ = pipe.execute()
    return count > limit


def check_redis():
    if not redis_client().ping():
        raise RuntimeError("redis PING failed")


# ---------------------------------------------------------------- rabbitmq
def rabbitmq_parameters():
    import pika

    s = get_settings()
    return pika.ConnectionParameters(
        host=s.RABBITMQ_HOST,
        port=int(s.RABBITMQ_PORT),
        virtual_host=s.RABBITMQ_VHOST,
        credentials=pika.PlainCredentials(s.RABBITMQ_USERNAME, s.get_secret("rabbitmq_password")),
        heartbeat=30,
        blocked_connection_timeout=30,
        connection_attempts=1,
        socket_timeout=5,
    )


class QueuePublisher:
    """A lazily (re)connected publisher; one per process, lock-protected."""

    def __init__(self):
        self.lock = threading.Lock()
        self.connection = None
        self.channel = None
        self.declared = set()

    def _connect(self):
        import pika

        self.connection = pika.BlockingConnection(rabbitmq_parameters())
        self.channel = self.connection.channel()
        self.declared = set()

    def _close(self):
        try:
            if self.connection is not None and self.connection.is_open:
                self.connection.close()
        except Exception:
            pass
        self.connection = self.channel = None

    def publish(self, queue_name, event):
        import pika

        body = json.dumps(event).encode()
        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.connection is None or not self.connection.is_open:
                        self._connect()
                    if queue_name not in self.declared:
                        self.channel.queue_declare(queue=queue_name, durable=True)
                        self.declared.add(queue_name)
                    self.channel.basic_publish(
                        exchange="",
                        routing_key=queue_name,
                        body=body,
                        properties=pika.BasicProperties(delivery_mode=2),
                    )
                    return
                except Exception:
                    self._close()
                    if attempt == 2:
                        raise

    def check(self):
        with self.lock:
            try:
                if self.connection is None or not self.connection.is_open:
                    self._connect()
                self.connection.process_data_events(time_limit=0)
            except Exception:
                self._close()
                raise


_publisher = None
_publisher_lock = threading.Lock()


def publisher():
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = QueuePublisher()
        return _publisher


def queue_json_publish(queue_name, event):
    publisher().publish(queue_name, event)


def check_rabbitmq():
    # A fresh connection each time: proves the broker answers right now.
    import pika

    conn = pika.BlockingConnection(rabbitmq_parameters())
    conn.close()
