"""Probes and metrics: no token needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from gateway.error_mapping import GatewayRoute
from gateway.errors import Unavailable, api_error_response
from gateway.metrics import metrics_response
from gateway.responses import error_responses, json_response
from gateway.schemas import Health

router = APIRouter(route_class=GatewayRoute, tags=["operations"])
# Public: no bearer token (the document is secure by default).
PUBLIC: dict[str, Any] = {"security": []}
_OK = b'{"status":"ok"}'


@router.get("/healthz", response_model=Health, openapi_extra=PUBLIC)
async def healthz() -> Response:
    """Liveness: the process answers."""
    return Response(_OK, media_type="application/json")


@router.get("/readyz", response_model=Health, responses=error_responses(503), openapi_extra=PUBLIC)
async def readyz(request: Request) -> Response:
    """Readiness: the invoice service's health check answers SERVING."""
    if await request.app.state.invoice_client.is_serving():
        return json_response({"status": "ready"})
    return api_error_response(Unavailable("the invoice service is not reachable"))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
    openapi_extra=PUBLIC,
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this process."""
    return metrics_response(request.app.state.metrics_registry)
