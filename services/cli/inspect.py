"""`suoops inspect active|stats|failed` and `suoops retry`: the queues as an operator sees them.

They read Dramatiq's keys in Redis directly, through services/common/operations_view.py
(shared with the monitoring dashboard). `retry` asks the invoice service
(MaintenanceService, internal credential) for a new PDF generation of each failed invoice,
since a failed PDF is final within its generation, and then deletes those invoices' dead
letters: Dramatiq has no replay of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

import grpc
import redis
from suoops.invoice.v1 import maintenance_pb2, maintenance_pb2_grpc

from services.common.broker import redis_client
from services.common.operations_view import (
    active_jobs,
    failed_jobs,
    invoice_id_of,
    iso_ms,
    queue_stats,
    retry_renders,
)
from services.common.settings import Settings, SettingsError

# The data-gathering half lives in operations_view (the dashboard reads it too); these
# names stay importable from here.
__all__ = [
    "active_jobs",
    "failed_jobs",
    "inspect",
    "invoice_id_of",
    "iso_ms",
    "queue_stats",
    "retry",
    "retry_renders",
]

RETRY_DEADLINE_SECONDS = 60.0


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
