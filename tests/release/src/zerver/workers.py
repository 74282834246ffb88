# Test double of a Zulip server release, for the zulip.server Ansible
# collection tests.  NOT Zulip.
"""`manage.py process_queue`: RabbitMQ consumers."""
import json
import logging
import os
import signal
import sys
import threading
import time

from zerver import services

logger = logging.getLogger("zulip.queue")

QUEUES = [
    "deferred_work",
    "digest_emails",
    "email_mirror",
    "email_senders",
    "embed_links",
    "embedded_bots",
    "missedmessage_emails",
    "missedmessage_mobile_notifications",
    "outgoing_webhooks",
    "thumbnail",
    "user_activity",
    "user_activity_interval",
]

stopping = threading.Event()


def consume_user_activity(event):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO zerver_useractivity (user_profile_id, query, count, last_visit) "
            "VALUES (%s, %s, 1, to_timestamp(%s)) "
            "ON CONFLICT (user_profile_id, query) DO UPDATE "
            "SET count = zerver_useractivity.count + 1, last_visit = EXCLUDED.last_visit",
            (event["user_profile_id"], event.get("query", "unknown"), event.get("time", time.time())),
        )


def consume_generic(queue_name):
    def consume(event):
        logger.info("%s: processed event %s", queue_name, json.dumps(event)[:200])

    return consume


URL_PREVIEW_TIMEOUT = 10


def consume_embed_links(event):
    """Zulip's link previews: fetch each URL of a new message (through the
    outgoing HTTP proxy supervisor sets in HTTP_proxy/HTTPS_proxy, as Zulip's
    requests session does) and cache its title for the message's rendering."""
    import re
    import urllib.request

    for url in event["urls"]:
        request = urllib.request.Request(url, headers={"User-Agent": "Mozilla/5.0 (compatible; ZulipURLPreview)"})
        try:
            with urllib.request.urlopen(request, timeout=URL_PREVIEW_TIMEOUT) as response:
                page = response.read(1024 * 1024).decode("utf-8", "replace")
        except Exception as e:
            logger.info("embed_links: no preview of %s for message %s: %s", url, event["message_id"], e)
            continue
        found = re.search(r'<meta property="og:title" content="([^"]*)"', page) or re.search(
            r"<title>([^<]*)</title>", page, re.IGNORECASE)
        if found:
            services.cache_set(f"url_preview:{url}", {"title": found.group(1).strip()}, 7 * 24 * 3600)
            logger.info("embed_links: previewed %s for message %s", url, event["message_id"])


error_lock = threading.Lock()


def record_error(queue_name, body):
    """Append the failed event to QUEUE_ERROR_DIR/<queue>.errors: "<asctime>\\t<JSON list of events>"."""
    from django.conf import settings

    try:
        events = json.dumps([json.loads(body)])
    except ValueError:
        events = json.dumps([body.decode("utf-8", "replace")])
    os.makedirs(settings.QUEUE_ERROR_DIR, exist_ok=True)
    with error_lock, open(os.path.join(settings.QUEUE_ERROR_DIR, f"{queue_name}.errors"), "a") as handle:
        handle.write(f"{time.asctime()}\t{events}\n")


def consumer_for(queue_name):
    if queue_name == "user_activity":
        return consume_user_activity
    if queue_name == "embed_links":
        return consume_embed_links
    return consume_generic(queue_name)


def consume_forever(queue_name):
    """Consume one queue; reconnect with exponential backoff (max 30s)."""
    import pika

    consume = consumer_for(queue_name)
    backoff = 1
    while not stopping.is_set():
        try:
            connection = pika.BlockingConnection(services.rabbitmq_parameters())
            channel = connection.channel()
            channel.queue_declare(queue=queue_name, durable=True)
            channel.basic_qos(prefetch_count=100)
            logger.info("%s: connected to RabbitMQ, consuming", queue_name)
            backoff = 1

            def on_message(ch, method, properties, body):
                from django.db import close_old_connections

                try:
                    consume(json.loads(body))
                except Exception:
                    # As Zulip: the event is recorded and dropped, not retried.
                    logger.exception("Problem handling data on queue %s", queue_name)
                    record_error(queue_name, body)
                    close_old_connections()  # a database that went away: reconnect next time
                ch.basic_ack(method.delivery_tag)

            channel.basic_consume(queue=queue_name, on_message_callback=on_message, auto_ack=False)
            while not stopping.is_set():
                connection.process_data_events(time_limit=1)
            connection.close()
        except (pika.exceptions.AMQPError, OSError) as e:
            logger.warning("%s: RabbitMQ unavailable (%r); retrying in %ss", queue_name, e, backoff)
            stopping.wait(backoff)
            backoff = min(backoff * 2, 30)


def run(queue_names, worker_num=0):
    unknown = [q for q in queue_names if q not in QUEUES]
    if unknown:
        sys.stderr.write(f"Unknown queue(s): {', '.join(unknown)}\n")
        return 1

    def stop(signum, frame):
        logger.info("received signal %s, stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("worker %s starting for queues: %s", worker_num, " ".join(queue_names))
    threads = [threading.Thread(target=consume_forever, args=(q,), name=q, daemon=True) for q in queue_names]
    for t in threads:
        t.start()
    while not stopping.is_set() and any(t.is_alive() for t in threads):
        stopping.wait(1)
    stopping.set()
    for t in threads:
        t.join(timeout=5)
    return 0
