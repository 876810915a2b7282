"""Prometheus metrics of the gateway: request counts and latencies per route."""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.asgi_response import ResponseStatus, route_template

# Finer than the library default at the low end: the gateway's own work is a millisecond.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Unknown paths and methods share one label each, so a scanner cannot blow up the series count.
UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def new_registry() -> CollectorRegistry:
    """A registry of its own per app, so tests can build many apps in one process."""
    registry = CollectorRegistry()
    process_collector.ProcessCollector(registry=registry)
    platform_collector.PlatformCollector(registry=registry)
    gc_collector.GCCollector(registry=registry)
    return registry


def metrics_response(registry: CollectorRegistry) -> Response:
    """The Prometheus text exposition of `registry`."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """ASGI middleware: counts requests by method, route template and status; times them."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "gateway_http_requests_total",
            "HTTP requests answered by the gateway.",
            ("method", "route", "status"),
            registry=registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "Time from request to the end of the response, by route.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        # labels() takes a lock and builds a key on every call; the children never change.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def _series(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        key = (method, route, status)
        series = self._children.get(key)
        if series is None:
            series = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[key] = series
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and record its route, status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = ResponseStatus(send)
        try:
            await self.app(scope, receive, status.send)
        finally:
            route = route_template(scope) or UNMATCHED_ROUTE
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            requests, latency = self._series(method, route, status.code)
            latency.observe(time.perf_counter() - start)
            requests.inc()
