"""The Celery baseline of bench/delivery.py: a task that sends one SMS through the Twilio SDK to
the same fake our workers send to, with Redis as the broker.

It is as fast as such a setup honestly gets: the task needs no database (it is handed the
recipient and the text, and records nothing), results are ignored, and each worker process
builds its Twilio client once. Our workers do more for each message: claim it, mark it
`sending`, record the provider's id and `sent`, durably, in the same database as the reply.

    celery -A bench.celery_baseline worker --pool threads --concurrency 4 -Q bench-idle
"""

from __future__ import annotations

import os
from functools import cache

from celery import Celery
from twilio.rest import Client

from clientcontact.channels.twilio.sender import RoutedHttpClient

# A database number and key prefix of its own: nothing else on the Redis server collides.
BROKER_URL = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/13")
QUEUE = "bench-sends"

app = Celery("bench", broker=BROKER_URL)
app.conf.update(
    broker_transport_options={"global_keyprefix": "cc_bench_"},
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


@cache
def _twilio() -> Client:
    """The SDK client our Twilio adapter builds (`RoutedHttpClient`: the SDK's own HTTP
    client sent to the fake's base URL), once per worker process."""
    http = RoutedHttpClient(os.environ["TWILIO_API_BASE_URL"], timeout=15)
    return Client(os.environ["TWILIO_ACCOUNT_SID"], os.environ["TWILIO_AUTH_TOKEN"],
                  http_client=http, environment={})


@app.task(name="bench.send_sms")
def send_sms(to: str, body: str, status_callback: str) -> str:
    message = _twilio().messages.create(to=to, from_=os.environ["TWILIO_PHONE_NUMBER"],
                                        body=body, status_callback=status_callback)
    return message.sid
