"""Idle consumers are woken by an enqueue instead of waiting for their next poll (real Redis)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq import Message

from services.common.queue_wakeup import MAX_WAKE_TOKENS, WakingRedisBroker, wake_key

pytestmark = pytest.mark.integration
QUEUE = "wakeup_test"
# Far longer than any test waits: a consumer that only polled would not see the job in time.
IDLE_POLL_MS = 60_000


@pytest.fixture
def broker(redis_client: redis.Redis) -> Iterator[WakingRedisBroker]:
    broker = WakingRedisBroker(client=redis_client)
    broker.declare_queue(QUEUE)
    yield broker
    broker.close()


def job(body: str) -> Message[Any]:
    return Message(queue_name=QUEUE, actor_name="noop", args=(body,), kwargs={}, options={})


def wait_until_a_client_blocks(redis_client: redis.Redis) -> None:
    for _ in range(1000):
        if any(c.get("cmd") == "blpop" for c in redis_client.client_list()):
            return
        threading.Event().wait(0.01)
    raise AssertionError("no consumer blocked on its wake list")


def test_idle_consumer_takes_a_new_job_long_before_its_poll_interval_ends(
    broker: WakingRedisBroker, redis_client: redis.Redis
) -> None:
    consumer = broker.consume(QUEUE, prefetch=2, timeout=IDLE_POLL_MS)
    # Idle for long: Dramatiq's backoff is at its maximum, the whole poll interval.
    consumer.misses = 30  # type: ignore[attr-defined]
    received: list[Any] = []

    def consume() -> None:
        for message in consumer:
            if message is not None:
                received.append(message)
                return

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    wait_until_a_client_blocks(redis_client)  # the consumer found the queue empty and now waits
    broker.enqueue(job("wake up"))
    thread.join(timeout=10)  # a sixth of the poll interval

    assert [m.args for m in received] == [("wake up",)]
    consumer.ack(received[0])
    consumer.close()


def test_wake_tokens_are_bounded_and_expire_while_no_consumer_waits(
    broker: WakingRedisBroker, redis_client: redis.Redis
) -> None:
    for number in range(MAX_WAKE_TOKENS + 10):
        broker.enqueue(job(f"job {number}"))

    key = wake_key(QUEUE, broker.namespace)
    assert redis_client.llen(key) == MAX_WAKE_TOKENS
    assert 0 < redis_client.pttl(key) <= 60_000


def test_a_delayed_job_wakes_nobody(broker: WakingRedisBroker, redis_client: redis.Redis) -> None:
    broker.enqueue(job("later"), delay=60_000)

    assert redis_client.exists(wake_key(QUEUE, broker.namespace)) == 0


def test_a_failed_wake_never_fails_the_enqueue_before_it(
    broker: WakingRedisBroker, redis_client: redis.Redis
) -> None:
    redis_client.set(wake_key(QUEUE, broker.namespace), "not a list")  # LPUSH now fails: WRONGTYPE

    broker.enqueue(job("still queued"))

    consumer = broker.consume(QUEUE, prefetch=1, timeout=100)
    message = next(message for message in consumer if message is not None)
    assert message.args == ("still queued",)
    consumer.ack(message)
    consumer.close()


def test_worker_runs_jobs_from_a_waking_broker(broker: WakingRedisBroker) -> None:
    done = threading.Event()

    @dramatiq.actor(broker=broker, actor_name="mark_done", queue_name=QUEUE)
    def mark_done() -> None:
        done.set()

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=IDLE_POLL_MS)
    worker.start()
    try:
        mark_done.send()
        assert done.wait(timeout=10)
    finally:
        worker.stop(timeout=5_000)
