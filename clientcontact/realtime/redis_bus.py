"""The event bus across several web servers and workers: Redis pub/sub.

Every process publishes to one Redis channel per account of its installation, and runs one
listener thread that receives every account's events and hands them to its local
subscriptions (a worker has none and drops them), so an agent connected to server A sees a
reply sent by a worker on machine B. Delivery is best effort, like any screen update: a Redis
outage loses pushes (the page still shows the truth on its next load), never data.
"""

from __future__ import annotations

import json
import logging
import threading

import redis

from clientcontact.realtime.bus import InProcessBus, RealtimeEvent, Subscription

log = logging.getLogger(__name__)


class RedisBus:
    def __init__(self, url: str, *, prefix: str) -> None:
        """`prefix` starts every channel name: the installation's (Settings.redis_key), so
        installations sharing one Redis never hear each other."""
        self._client = redis.Redis.from_url(url)
        self._prefix = prefix
        self._local = InProcessBus()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener: threading.Thread | None = None
        self._ready = threading.Event()
        # Listening from the start, so the first screen to connect misses nothing.
        self._start_listening()

    def publish(self, event: RealtimeEvent) -> None:
        try:
            self._client.publish(f"{self._prefix}{event.account_id}", event.to_json())
        except redis.RedisError:
            log.warning("could not publish %s to Redis; screens will catch up on reload",
                        event.type, exc_info=True)

    def subscribe(self, account_id: int) -> Subscription:
        return self._local.subscribe(account_id)

    def wait_until_listening(self, timeout: float = 5.0) -> bool:
        """For tests: true once Redis has confirmed the listener's subscription."""
        return self._ready.wait(timeout)

    def close(self) -> None:
        self._stopping.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        self._client.close()

    def _start_listening(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = threading.Thread(target=self._listen, name="redis-bus",
                                                  daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                self._pump()
            except redis.RedisError:
                self._ready.clear()
                log.warning("Redis event listener lost its connection; retrying", exc_info=True)
                self._stopping.wait(1.0)

    def _pump(self) -> None:
        pubsub = self._client.pubsub()
        try:
            pubsub.psubscribe(f"{self._prefix}*")
            while not self._stopping.is_set():
                message = pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                if message["type"] == "psubscribe":  # Redis confirmed: nothing is missed now
                    self._ready.set()
                elif message["type"] == "pmessage":
                    self._deliver(message["data"])
        finally:
            pubsub.close()

    def _deliver(self, raw: bytes) -> None:
        try:
            fields = json.loads(raw)
            event = RealtimeEvent(int(fields["account_id"]), str(fields["type"]),
                                  dict(fields.get("data") or {}))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed event on the Redis bus")
            return
        self._local.publish(event)
