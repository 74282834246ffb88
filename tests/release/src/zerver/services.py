# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""Memcached (Django's cache: PyLibMCCache, binary protocol + SASL), Redis
and RabbitMQ, configured from settings and secrets as Zulip configures them."""
import json
import threading
import time

from django.conf import settings
from django.core.cache import cache

_local = threading.local()


# ---------------------------------------------------------------- memcached
def cache_get(key):
    try:
        return cache.get(key)
    except Exception:
        return None


def cache_set(key, value, timeout=3600):
    try:
        cache.set(key, value, timeout)
    except Exception:
        pass


def check_memcached():
    cache.set("zulip-health-check", "ok", 60)
    if cache.get("zulip-health-check") != "ok":
        raise RuntimeError("memcached did not return the value just stored")


# ---------------------------------------------------------------- redis
def redis_client():
    client = getattr(_local, "redis", None)
    if client is None:
        import redis

        client = redis.StrictRedis(host=settings.REDIS_HOST, port=int(settings.REDIS_PORT),
                                   password=settings.REDIS_PASSWORD, socket_timeout=5, socket_connect_timeout=5)
        _local.redis = client
    return client


def rate_limit_hit(user_id, limit):
    """Count one request for user_id in the current minute; True if over limit."""
    key = f"zulip:ratelimit:user:{user_id}:{int(time.time() // 60)}"
    pipe = redis_client().pipeline()
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

    return pika.ConnectionParameters(
        host=settings.RABBITMQ_HOST,
        port=int(settings.RABBITMQ_PORT),
        virtual_host=settings.RABBITMQ_VHOST,
        credentials=pika.PlainCredentials(settings.RABBITMQ_USERNAME, settings.RABBITMQ_PASSWORD or ""),
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
                    self.channel.basic_publish(exchange="", routing_key=queue_name, body=body,
                                               properties=pika.BasicProperties(delivery_mode=2))
                    return
                except Exception:
                    self._close()
                    if attempt == 2:
                        raise


_publisher = QueuePublisher()


def queue_json_publish(queue_name, event):
    _publisher.publish(queue_name, event)


def check_rabbitmq():
    # A fresh connection each time: proves the broker answers right now.
    import pika

    pika.BlockingConnection(rabbitmq_parameters()).close()
