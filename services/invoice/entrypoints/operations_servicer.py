"""suoops.invoice.v1.OperationsService: the dashboard's data and retries, for operators."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import redis
from google.protobuf.timestamp_pb2 import Timestamp
from suoops.invoice.v1 import operations_pb2 as pb
from suoops.invoice.v1 import operations_pb2_grpc

from services.common import operations_view
from services.common.broker import redis_client
from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.errors import PermissionDenied, Unavailable
from services.invoice.entrypoints.invoice_servicer import Context, bearer_token
from services.invoice.service_layer import maintenance
from services.invoice.service_layer.auth import ROLE_OPERATOR

REDIS_TIMEOUT_SECONDS = 5.0


def _timestamp(iso: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))
    return stamp


def dashboard_to_pb(view: dict[str, Any]) -> pb.GetDashboardResponse:
    """operations_view.dashboard's dict as the response message."""
    renders = view["renders_last_hour"]
    return pb.GetDashboardResponse(
        queues=[pb.QueueDepth(queue=name, **depth) for name, depth in view["queues"].items()],
        workers_alive=view["workers_alive"],
        active_jobs=[
            pb.ActiveJob(
                queue=job["queue"],
                task=job["task"],
                invoice_id=job["invoice_id"],
                worker_id=job["worker_id"],
                attempt=job["attempt"],
                queued_at=_timestamp(job["queued_at"]),
            )
            for job in view["active_jobs"]
        ],
        failed_jobs=[
            pb.FailedJob(
                queue=job["queue"],
                task=job["task"],
                invoice_id=job["invoice_id"],
                error=job["error"],
                attempts=job["attempts"],
                failed_at=_timestamp(job["failed_at"]),
                message_id=job["message_id"],
            )
            for job in view["failed_jobs"]
        ],
        renders_per_minute=[
            pb.RenderMinute(
                minute=_timestamp(m["minute"]),
                ready=m["ready"],
                failed=m["failed"],
                p95_render_ms=m["p95_render_ms"],
            )
            for m in view["renders_per_minute"]
        ],
        renders_ready_last_hour=renders["ready"],
        renders_failed_last_hour=renders["failed"],
        failure_rate_last_hour=renders["failure_rate"],
        generated_at=_timestamp(view["generated_at"]),
    )


class OperationsServicer(operations_pb2_grpc.OperationsServiceServicer):
    """Reads the queues from Redis (off the event loop) and retries renders, for operator tokens."""

    def __init__(self, app: InvoiceApp, client: redis.Redis | None = None) -> None:
        self._app = app
        if client is None and app.settings.redis_url:
            client = redis_client(
                app.settings,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        self._redis = client

    async def _require_operator(self, context: Context) -> redis.Redis:
        principal = await self._app.authenticator.authenticate(bearer_token(context))
        if principal.role != ROLE_OPERATOR:
            raise PermissionDenied("this call needs an operator token")
        if self._redis is None:
            raise Unavailable("REDIS_URL is not set: the queues cannot be read")
        return self._redis

    async def GetDashboard(
        self, request: pb.GetDashboardRequest, context: Context
    ) -> pb.GetDashboardResponse:
        client = await self._require_operator(context)
        timeout_ms = self._app.settings.worker_heartbeat_timeout_ms
        try:
            view = await asyncio.to_thread(operations_view.dashboard, client, timeout_ms)
        except redis.RedisError as exc:
            raise Unavailable("Redis is unavailable") from exc
        return dashboard_to_pb(view)

    async def RetryRenders(
        self, request: pb.RetryRendersRequest, context: Context
    ) -> pb.RetryRendersResponse:
        client = await self._require_operator(context)
        try:
            letters = await asyncio.to_thread(operations_view.dead_render_letters, client)
        except redis.RedisError as exc:
            raise Unavailable("Redis is unavailable") from exc
        wanted = list(dict.fromkeys(request.invoice_ids)) or sorted(letters)
        requeued, skipped = await maintenance.retry_failed_renders(self._app.unit_of_work(), wanted)
        if requeued:
            self._app.jobs_committed()
        try:
            removed = await asyncio.to_thread(
                operations_view.drop_dead_letters, client, letters, requeued
            )
        except redis.RedisError:
            # The renders are queued again (that committed); a dead letter left behind is
            # only a stale row in the failure list, dropped by the next retry of it.
            removed = 0
        return pb.RetryRendersResponse(
            requeued=requeued, skipped=skipped, dead_letters_removed=removed
        )
