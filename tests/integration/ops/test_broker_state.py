"""Reading Dramatiq's Redis keys: depths, taken jobs, dead letters, and the depth collector."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from prometheus_client import CollectorRegistry
from suoops.renderer.v1 import renderer_pb2

from services.cli.inspect import active_jobs, failed_jobs, queue_stats, retry_renders
from services.common import broker_state, render_records
from services.common.queue_metrics import QueueDepthCollector
from services.common.queues import PDF_GENERATION, RENDER_INVOICE_ACTOR
from tests.support.processes import free_port

pytestmark = pytest.mark.integration
QUEUE = PDF_GENERATION.name


@pytest.fixture
def broker(redis_client: redis.Redis) -> Iterator[RedisBroker]:
    broker = RedisBroker(client=redis_client)

    @dramatiq.actor(broker=broker, actor_name=RENDER_INVOICE_ACTOR, queue_name=QUEUE)
    def render(encoded: str) -> None: ...

    yield broker


def render_args(invoice_id: str) -> str:
    request = renderer_pb2.RenderInvoiceRequest(generation=1)
    request.invoice.invoice_id = invoice_id
    return base64.b64encode(request.SerializeToString()).decode()


def send(broker: RedisBroker, invoice_id: str, delay: int | None = None) -> None:
    broker.get_actor(RENDER_INVOICE_ACTOR).send_with_options(
        args=(render_args(invoice_id),), delay=delay
    )


def _invoice(encoded: str) -> str:
    request = renderer_pb2.RenderInvoiceRequest.FromString(base64.b64decode(encoded))
    return str(request.invoice.invoice_id)


def test_depths_taken_jobs_and_dead_letters_follow_the_broker(
    redis_client: redis.Redis, broker: RedisBroker
) -> None:
    for invoice_id in ("inv_a", "inv_b", "inv_c"):
        send(broker, invoice_id)
    send(broker, "inv_later", delay=60_000)
    assert broker_state.queue_depths(redis_client, QUEUE) == {"ready": 3, "delayed": 1, "dead": 0}

    consumer = broker.consume(QUEUE, prefetch=2, timeout=100)
    taken, dying = next(consumer), next(consumer)
    assert taken is not None and dying is not None
    consumer.nack(dying)

    active = active_jobs(redis_client)
    assert [(row["invoice_id"], row["worker_id"]) for row in active] == [
        (_invoice(taken.args[0]), broker.broker_id)
    ]
    render_records.record_error(redis_client, _invoice(dying.args[0]), "S3 said 503", 1)
    failed = failed_jobs(redis_client)
    assert [(f["invoice_id"], f["error"], f["attempts"]) for f in failed] == [
        (_invoice(dying.args[0]), "S3 said 503", 1)
    ]
    assert broker_state.queue_depths(redis_client, QUEUE) == {"ready": 1, "delayed": 1, "dead": 1}
    stats = queue_stats(redis_client, heartbeat_timeout_ms=60_000)
    assert stats["queues"][QUEUE]["dead"] == 1 and stats["workers_alive"] == 1
    consumer.close()


def test_retry_drops_the_dead_letters_of_requeued_invoices_only(
    redis_client: redis.Redis, broker: RedisBroker
) -> None:
    for invoice_id in ("inv_failed", "inv_not_failed"):
        send(broker, invoice_id)
    consumer = broker.consume(QUEUE, prefetch=2, timeout=100)
    for _ in range(2):
        message = next(consumer)
        assert message is not None
        consumer.nack(message)
    asked: list[list[str]] = []

    def retry(invoice_ids: list[str]) -> tuple[list[str], list[str]]:
        asked.append(invoice_ids)
        return ["inv_failed"], ["inv_not_failed"]

    outcome = retry_renders(redis_client, retry, None)
    assert asked == [["inv_failed", "inv_not_failed"]]
    assert outcome == {
        "requeued": ["inv_failed"],
        "skipped": ["inv_not_failed"],
        "dead_letters_removed": 1,
    }
    assert [f["invoice_id"] for f in failed_jobs(redis_client)] == ["inv_not_failed"]
    consumer.close()


def test_render_outcomes_are_summed_over_the_last_hour(redis_client: redis.Redis) -> None:
    now = 1_800_000_000.0
    render_records.record_outcome(redis_client, "ready", now - 30)
    render_records.record_outcome(redis_client, "ready", now)
    render_records.record_outcome(redis_client, "failed", now - 120)
    render_records.record_outcome(redis_client, "failed", now - 2 * 3600)  # too old to count
    assert render_records.outcomes_since(redis_client, 60, now) == {"ready": 2, "failed": 1}


def test_depth_collector_reports_queues_and_survives_redis_being_away(
    redis_client: redis.Redis, broker: RedisBroker
) -> None:
    send(broker, "inv_x")
    registry = CollectorRegistry()
    registry.register(QueueDepthCollector(redis_client, [QUEUE]))
    assert registry.get_sample_value("queue_depth", {"queue": QUEUE, "state": "ready"}) == 1
    assert registry.get_sample_value("queue_depth", {"queue": QUEUE, "state": "dead"}) == 0

    away = redis.Redis(port=free_port(), socket_connect_timeout=0.5)
    silent = CollectorRegistry()
    silent.register(QueueDepthCollector(away, [QUEUE]))
    assert silent.get_sample_value("queue_depth", {"queue": QUEUE, "state": "ready"}) is None
