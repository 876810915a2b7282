"""The gateway's ASGI app: routes, error handlers, middleware and the gRPC channel's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from gateway import error_mapping, errors
from gateway.client import InvoiceClient
from gateway.limits import MAX_BODY_BYTES, BodySizeLimit
from gateway.metrics import RequestMetrics, new_registry
from gateway.openapi import openapi_builder
from gateway.routes import admin, health, invoices, reports, webhooks, ws
from gateway.tracing import RequestTracing
from services.common.settings import Settings
from services.common.tracing import flush_spans


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings, *, max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """Build the gateway app; its lifespan opens and closes the channel to the invoice service."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The channel binds to the running event loop, so it is made here, never at import.
        client = InvoiceClient.connect(settings)
        app.state.invoice_client = client
        try:
            yield
        finally:
            await client.close()
            # uvicorn ends the process by re-raising SIGTERM, so exit hooks never flush.
            flush_spans()

    app = FastAPI(
        title="SuoOps invoice API",
        version="1.0.0",
        lifespan=lifespan,
        redoc_url=None,
        # Operation ids are the route functions' names (`get_invoice`), not FastAPI's long ones.
        generate_unique_id_function=_operation_id,
        # FastAPI's built-in telemetry would export query strings (`?token=`) on its spans;
        # the gateway's own RequestTracing span records the path only, and /metrics counts.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        exception_handlers={
            HTTPException: error_mapping.handle_exception,
            errors.ApiError: error_mapping.handle_exception,
        },
    )
    app.state.metrics_registry = new_registry()
    app.include_router(invoices.router)
    app.include_router(reports.router)
    app.include_router(webhooks.router)
    app.include_router(health.router)
    app.include_router(ws.router)
    app.include_router(admin.router)
    app.openapi = openapi_builder(app)  # type: ignore[method-assign]
    # Added last is outermost: metrics see every answer, the 413s included.
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(RequestMetrics, registry=app.state.metrics_registry)
    # Outermost of all: the request's span holds everything the gateway does for it.
    app.add_middleware(RequestTracing)
    return app
