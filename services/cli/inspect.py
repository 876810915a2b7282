"""`suoops inspect active|stats|failed` and `suoops retry`: the queues as an operator sees them.

They read Dramatiq's keys in Redis directly (services/common/broker_state.py) and
the workers' render notes (services/common/render_records.py). `retry` asks the
invoice service (MaintenanceService, internal credential) for a new PDF generation
of each failed invoice, since a failed PDF is final within its generation, and then
deletes those invoices' dead letters: Dramatiq has no replay of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
import redis
from suoops.invoice.v1 import maintenance_pb2, maintenance_pb2_grpc

from services.common import broker_state, render_records
from services.common.broker import redis_client
from services.common.broker_state import BrokerMessage
from services.common.queues import ALL_QUEUES, PDF_GENERATION, RENDER_INVOICE_ACTOR
from services.common.settings import Settings, SettingsError
from services.renderer.actors import decode_request, last_error_line

RETRY_DEADLINE_SECONDS = 60.0


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


def retry_renders(
    client: redis.Redis,
    retry: Callable[[list[str]], tuple[list[str], list[str]]],
    invoice_ids: list[str] | None,
) -> dict[str, Any]:
    """Render the invoices (default: those of the dead render jobs) again; drop their letters."""
    letters = broker_state.dead_letters(client, PDF_GENERATION.name)
    by_invoice: dict[str, list[str]] = {}
    for message in letters:
        invoice_id = invoice_id_of(message)
        if invoice_id:
            by_invoice.setdefault(invoice_id, []).append(message.redis_id)
    wanted = list(dict.fromkeys(invoice_ids)) if invoice_ids else sorted(by_invoice)
    requeued, skipped = retry(wanted) if wanted else ([], [])
    removed = broker_state.remove_dead_letters(
        client, PDF_GENERATION.name, [rid for i in requeued for rid in by_invoice.get(i, [])]
    )
    return {"requeued": requeued, "skipped": skipped, "dead_letters_removed": removed}


def inspect(args: argparse.Namespace) -> int:
    """`suoops inspect active|stats|failed [--json]`."""
    try:
        settings = Settings.from_env()
        client = redis_client(settings, socket_timeout=10.0)
    except SettingsError as exc:
        print(f"suoops inspect: {exc}", file=sys.stderr)
        return 2
    try:
        if args.what == "active":
            _print(args.json, active_jobs(client), _rows_text)
        elif args.what == "stats":
            stats = queue_stats(client, settings.worker_heartbeat_timeout_ms)
            _print(args.json, stats, _stats_text)
        else:
            _print(args.json, failed_jobs(client), _rows_text)
    except redis.RedisError as exc:
        print(f"suoops inspect: Redis unavailable: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


def retry(args: argparse.Namespace) -> int:
    """`suoops retry INVOICE_ID... | --failed [--json]`."""
    if bool(args.invoice_ids) == bool(args.failed):
        print("suoops retry: give invoice ids or --failed (not both)", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env().require("internal_token")
        client = redis_client(settings, socket_timeout=10.0)
    except SettingsError as exc:
        print(f"suoops retry: {exc}", file=sys.stderr)
        return 2
    metadata = (("authorization", f"Bearer {settings.internal_token}"),)
    try:
        with grpc.insecure_channel(settings.invoice_grpc_addr) as channel:
            stub = maintenance_pb2_grpc.MaintenanceServiceStub(channel)

            def call(invoice_ids: list[str]) -> tuple[list[str], list[str]]:
                reply = stub.RetryFailedRenders(
                    maintenance_pb2.RetryFailedRendersRequest(invoice_ids=invoice_ids),
                    metadata=metadata,
                    timeout=RETRY_DEADLINE_SECONDS,
                )
                return list(reply.requeued), list(reply.skipped)

            outcome = retry_renders(client, call, args.invoice_ids or None)
    except grpc.RpcError as exc:
        print(f"suoops retry: invoice service: {exc.code().name} {exc.details()}", file=sys.stderr)
        return 1
    except redis.RedisError as exc:
        print(f"suoops retry: Redis unavailable: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    _print(args.json, outcome, _retry_text)
    return 1 if args.invoice_ids and outcome["skipped"] else 0


def _print(as_json: bool, value: Any, text: Callable[[Any], str]) -> None:
    print(json.dumps(value, indent=2) if as_json else text(value))


def _rows_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(none)"
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _stats_text(stats: dict[str, Any]) -> str:
    lines = [f"{'QUEUE':<18}{'READY':>8}{'DELAYED':>9}{'DEAD':>7}"]
    for name, depth in stats["queues"].items():
        lines.append(f"{name:<18}{depth['ready']:>8}{depth['delayed']:>9}{depth['dead']:>7}")
    renders = stats["renders_last_hour"]
    lines.append(f"workers alive: {stats['workers_alive']}")
    lines.append(
        f"renders in the last hour: {renders['ready']} ready, {renders['failed']} failed"
        f" (failure rate {renders['failure_rate']:.1%})"
    )
    return "\n".join(lines)


def _retry_text(outcome: dict[str, Any]) -> str:
    lines = [f"requeued {i}" for i in outcome["requeued"]]
    lines += [f"skipped {i} (unknown, or its PDF is not failed)" for i in outcome["skipped"]]
    lines.append(f"dead letters removed: {outcome['dead_letters_removed']}")
    return "\n".join(lines)
