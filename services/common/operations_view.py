"""The queues as an operator sees them, read from Redis: for `suoops inspect` and the dashboard.

Dramatiq's keys are read directly (services/common/broker_state.py), with the workers'
render notes (services/common/render_records.py). Rows are plain dicts of JSON values,
so the CLI prints them as they are and the invoice service copies them into messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from services.common import broker_state, render_records
from services.common.broker_state import BrokerMessage
from services.common.job_messages import decode_request, last_error_line
from services.common.queues import ALL_QUEUES, PDF_GENERATION, RENDER_INVOICE_ACTOR

SERIES_MINUTES = 60


def invoice_id_of(message: BrokerMessage) -> str:
    """The invoice a render job is for; empty for other jobs or an unreadable payload."""
    if message.actor != RENDER_INVOICE_ACTOR or not message.args:
        return ""
    try:
        return str(decode_request(str(message.args[0])).invoice.invoice_id)
    except Exception:
        return ""


def iso_ms(milliseconds: int) -> str:
    """A millisecond Unix time as ISO 8601 UTC."""
    moment = datetime.fromtimestamp(milliseconds / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def active_jobs(client: redis.Redis) -> list[dict[str, Any]]:
    """Jobs a worker has taken and not finished (running, or prefetched to run next)."""
    rows = []
    for queue in ALL_QUEUES:
        for message in broker_state.active_messages(client, queue.name):
            rows.append(
                {
                    "queue": queue.name,
                    "task": message.actor,
                    "invoice_id": invoice_id_of(message),
                    "worker_id": message.worker_id,
                    "attempt": int(message.options.get("retries", 0)) + 1,
                    # Redis keeps no pick-up time: this is when the attempt was queued.
                    "queued_at": iso_ms(
                        int(message.options.get("requeue_timestamp", message.timestamp_ms))
                    ),
                }
            )
    return rows


def queue_stats(
    client: redis.Redis, heartbeat_timeout_ms: int, now: float | None = None
) -> dict[str, Any]:
    """Queue depths by state, workers alive, and renders that ended in the last hour."""
    now = time.time() if now is None else now
    renders = render_records.outcomes_since(client, 60, now)
    ended = renders["ready"] + renders["failed"]
    return {
        "queues": {q.name: broker_state.queue_depths(client, q.name) for q in ALL_QUEUES},
        "workers_alive": broker_state.workers_alive(client, heartbeat_timeout_ms, int(now * 1000)),
        "renders_last_hour": {
            **renders,
            "failure_rate": renders["failed"] / ended if ended else 0.0,
        },
    }


def failed_jobs(client: redis.Redis) -> list[dict[str, Any]]:
    """Dead letters with their invoice, last error, attempts and time of death."""
    letters = [(q.name, m) for q in ALL_QUEUES for m in broker_state.dead_letters(client, q.name)]
    invoice_ids = {m.redis_id: invoice_id_of(m) for _, m in letters}
    notes = render_records.last_errors(client, sorted({i for i in invoice_ids.values() if i}))
    rows = []
    for queue, message in letters:
        invoice_id = invoice_ids[message.redis_id]
        note = notes.get(invoice_id, {})
        traceback_text = str(message.options.get("traceback", ""))
        # The stored message is the one queued for the last attempt: its traceback (if any)
        # is the attempt before; the worker's note holds the last attempt's error.
        error = note.get("error") or (last_error_line(traceback_text) if traceback_text else "")
        attempts = max(int(message.options.get("retries", 0)) + 1, int(note.get("attempt", 0)))
        rows.append(
            {
                "queue": queue,
                "task": message.actor,
                "invoice_id": invoice_id,
                "error": error or "unknown",
                "attempts": attempts,
                "failed_at": iso_ms(message.dead_since_ms),
                "message_id": message.redis_id,
            }
        )
    return rows


def render_series(
    client: redis.Redis, minutes: int = SERIES_MINUTES, now: float | None = None
) -> list[dict[str, Any]]:
    """Renders ready and failed, and the p95 render time, per minute, oldest first."""
    return [
        {
            "minute": iso_ms(m.minute * 1000),
            "ready": m.ready,
            "failed": m.failed,
            "p95_render_ms": round(m.p95_ms, 1),
        }
        for m in render_records.minute_series(client, minutes, now)
    ]


def dashboard(
    client: redis.Redis, heartbeat_timeout_ms: int, now: float | None = None
) -> dict[str, Any]:
    """Everything the monitoring dashboard shows, read at one moment."""
    now = time.time() if now is None else now
    return {
        **queue_stats(client, heartbeat_timeout_ms, now),
        "active_jobs": active_jobs(client),
        "failed_jobs": failed_jobs(client),
        "renders_per_minute": render_series(client, SERIES_MINUTES, now),
        "generated_at": iso_ms(int(now * 1000)),
    }


def dead_render_letters(client: redis.Redis) -> dict[str, list[str]]:
    """The dead render jobs' message ids, by invoice."""
    by_invoice: dict[str, list[str]] = {}
    for message in broker_state.dead_letters(client, PDF_GENERATION.name):
        invoice_id = invoice_id_of(message)
        if invoice_id:
            by_invoice.setdefault(invoice_id, []).append(message.redis_id)
    return by_invoice


def drop_dead_letters(
    client: redis.Redis, by_invoice: dict[str, list[str]], invoice_ids: list[str]
) -> int:
    """Delete the dead render jobs of invoices rendered again; returns how many went."""
    redis_ids = [rid for i in invoice_ids for rid in by_invoice.get(i, [])]
    return broker_state.remove_dead_letters(client, PDF_GENERATION.name, redis_ids)


def retry_renders(
    client: redis.Redis,
    retry: Callable[[list[str]], tuple[list[str], list[str]]],
    invoice_ids: list[str] | None,
) -> dict[str, Any]:
    """Render the invoices (default: those of the dead render jobs) again; drop their letters."""
    by_invoice = dead_render_letters(client)
    wanted = list(dict.fromkeys(invoice_ids)) if invoice_ids else sorted(by_invoice)
    requeued, skipped = retry(wanted) if wanted else ([], [])
    removed = drop_dead_letters(client, by_invoice, requeued)
    return {"requeued": requeued, "skipped": skipped, "dead_letters_removed": removed}
