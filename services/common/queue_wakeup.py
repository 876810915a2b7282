"""Wakes an idle Dramatiq consumer the moment a job is enqueued, instead of at its next poll.

Dramatiq's Redis consumer sleeps between empty fetches, for up to the worker timeout
(`WORKER_POLL_MS`), so an idle worker picks a new job up only when that sleep ends. Here the
broker pushes a token onto the queue's wake list after each enqueue, and an idle consumer
waits on that list with BLPOP for as long as it would have slept: a job is taken within a
round trip, and an idle worker asks Redis no more often than before.

A token is only a hint. A lost one costs at most one poll interval (the consumer fetches
when its wait times out, as before); a spare one costs one empty fetch. The list is trimmed
and expires, so tokens never pile up while every consumer is busy.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff
from dramatiq.errors import ConnectionClosed

log = logging.getLogger(__name__)

# Enough tokens to wake every consumer of a queue at once; more would only cause empty fetches.
MAX_WAKE_TOKENS = 64
WAKE_TOKEN_TTL_MS = 60_000


def wake_key(queue_name: str, namespace: str) -> str:
    """The Redis list an idle consumer of this queue blocks on."""
    return f"{namespace}:{queue_name}.wake"


class WakingRedisBroker(RedisBroker):
    """A Redis broker whose enqueues wake an idle consumer of the queue at once."""

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return _WakingConsumer

    def enqueue(self, message: Message[Any], *, delay: int | None = None) -> Message[Any]:
        enqueued = super().enqueue(message, delay=delay)
        if delay is None:  # a delayed message is not due yet: nobody needs waking
            self.wake(enqueued.queue_name)
        return enqueued

    def wake(self, queue_name: str) -> None:
        """Leave a wake token for one idle consumer; never fails the enqueue it follows."""
        key = wake_key(queue_name, self.namespace)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.lpush(key, 1)
            pipe.ltrim(key, 0, MAX_WAKE_TOKENS - 1)
            pipe.pexpire(key, WAKE_TOKEN_TTL_MS)
            pipe.execute()
        except redis.RedisError as exc:  # the job is queued; it waits for a poll instead
            log.warning("could not wake consumers", extra={"queue": queue_name, "error": repr(exc)})


class _WakingConsumer(_RedisConsumer):
    """Dramatiq's consumer, but waiting on the queue's wake list instead of sleeping."""

    def __init__(self, broker: WakingRedisBroker, queue_name: str, prefetch: int, timeout: int):
        super().__init__(broker, queue_name, prefetch, timeout)
        self._wake_key = wake_key(queue_name, broker.namespace)

    def __next__(self) -> Any:
        if not self.message_cache and self.outstanding_message_count < self.prefetch:
            try:
                fetched = self.broker.do_fetch(
                    self.queue_name, self.prefetch - self.outstanding_message_count
                )
                if not fetched:
                    self._wait_for_wake()
                    return None
            except redis.ConnectionError as exc:
                raise ConnectionClosed(exc) from None
            self.message_cache = fetched
        # Messages in hand (Dramatiq's own path), or prefetch full (it sleeps, as before).
        return super().__next__()

    def _wait_for_wake(self) -> None:
        """Block until a job is enqueued or the poll interval (with Dramatiq's backoff) ends."""
        self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
        started = time.monotonic()
        try:
            self.broker.client.blpop([self._wake_key], timeout=backoff_ms / 1000)
        except redis.ConnectionError:
            raise
        except redis.RedisError as exc:  # e.g. the key holds another type: fall back to sleeping
            log.warning("could not wait for a wake token", extra={"error": repr(exc)})
            time.sleep(max(0.0, backoff_ms / 1000 - (time.monotonic() - started)))
