"""The Dramatiq Redis broker every process shares, configured from settings."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.broker import Broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage, Retries, default_middleware

from services.common.queue_wakeup import WakingRedisBroker
from services.common.queues import BROKER_NAMESPACE, Queue
from services.common.settings import Settings, SettingsError
from services.common.task_metrics import TaskMetrics
from services.common.tracing_middleware import TracingMiddleware

_CERT_REQS = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}


def redis_client(settings: Settings, **options: Any) -> redis.Redis:
    """A Redis client for REDIS_URL, with TLS settings for `rediss://`."""
    settings.require("redis_url")
    assert settings.redis_url is not None
    if settings.redis_url.startswith("rediss://"):
        if settings.redis_ssl_cert_reqs:
            reqs = settings.redis_ssl_cert_reqs.lower()
            if reqs not in _CERT_REQS:
                raise SettingsError("REDIS_SSL_CERT_REQS must be none, optional or required")
            options["ssl_cert_reqs"] = _CERT_REQS[reqs]
        if settings.redis_ssl_ca_certs:
            options["ssl_ca_certs"] = settings.redis_ssl_ca_certs
    return redis.Redis.from_url(settings.redis_url, **options)


def create_broker(settings: Settings, *, heartbeat_timeout_ms: int | None = None) -> RedisBroker:
    """A Redis broker whose Retries middleware uses the configured backoff and limit."""
    middleware = [m() for m in default_middleware if m is not Retries]
    middleware.append(CurrentMessage())
    middleware.append(TracingMiddleware())
    middleware.append(TaskMetrics())
    middleware.append(
        Retries(
            max_retries=settings.render_max_retries,
            min_backoff=settings.render_min_backoff_ms,
            max_backoff=settings.render_max_backoff_ms,
        )
    )
    # Enqueues wake an idle consumer at once instead of at its next poll.
    return WakingRedisBroker(
        client=redis_client(settings),
        namespace=BROKER_NAMESPACE,
        middleware=middleware,
        heartbeat_timeout=heartbeat_timeout_ms or settings.worker_heartbeat_timeout_ms,
        maintenance_chance=settings.worker_maintenance_per_million,
    )


def declare_actor(
    broker: Broker, fn: Callable[..., Any], name: str, queue: Queue, **options: Any
) -> dramatiq.Actor[Any, Any]:
    """Make `fn` the actor `name` on `queue`, at the queue's priority (CONTRACT §4)."""
    return dramatiq.actor(
        broker=broker, actor_name=name, queue_name=queue.name, priority=queue.priority, **options
    )(fn)
