"""The webhook routes of CONTRACT §2: register (the secret shown once), list, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.requests import Request
from starlette.responses import Response
from suoops.invoice.v1 import webhooks_pb2

from gateway import translate
from gateway.auth import BearerMetadata
from gateway.client import InvoiceClient
from gateway.error_mapping import GatewayRoute
from gateway.errors import InvalidArgument
from gateway.responses import error_responses, json_response
from gateway.schemas import CreatedWebhook, CreateWebhookRequest, WebhookList

router = APIRouter(
    route_class=GatewayRoute,
    tags=["webhooks"],
    responses=error_responses(401, 422, 503, 500),
)
_CREATE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": CreateWebhookRequest.model_json_schema()}},
    },
}
WebhookId = Annotated[str, Path(description="The webhook's id, `wh_...`.")]


def _client(request: Request) -> InvoiceClient:
    client: InvoiceClient = request.app.state.invoice_client
    return client


def webhook_json(webhook: webhooks_pb2.Webhook) -> dict[str, Any]:
    """A webhook as the REST body, without its secret."""
    return {
        "webhook_id": webhook.webhook_id,
        "url": webhook.url,
        "events": list(webhook.events),
        "created_at": translate.timestamp_text(webhook, "created_at"),
    }


def create_request(payload: dict[str, Any]) -> webhooks_pb2.CreateWebhookRequest:
    """The gRPC request; wrong JSON types are named here, the rules by the invoice service."""
    problems: list[tuple[str, str]] = []
    url = payload.get("url")
    if not isinstance(url, str):
        problems.append(("url", "required, a string"))
    events = payload.get("events")
    if not isinstance(events, list):
        problems.append(("events", "required, a list of event names"))
        events = []
    for index, event in enumerate(events):
        if not isinstance(event, str):
            problems.append((f"events[{index}]", "must be a string"))
    if problems:
        raise InvalidArgument("the webhook is not valid", fields=problems)
    return webhooks_pb2.CreateWebhookRequest(url=str(url), events=[str(e) for e in events])


@router.post(
    "/webhooks",
    status_code=201,
    response_model=CreatedWebhook,
    responses=error_responses(400),
    openapi_extra=_CREATE_OPENAPI,
)
async def create_webhook(request: Request, metadata: BearerMetadata) -> Response:
    """Register an endpoint for the business's invoice events; the secret is shown only now."""
    grpc_request = create_request(translate.parse_json_object(await request.body()))
    client = _client(request)
    reply = await client.webhooks.CreateWebhook(
        grpc_request, timeout=client.timeout, metadata=metadata
    )
    body = {**webhook_json(reply.webhook), "secret": reply.secret}
    return json_response(body, 201, {"Location": f"/webhooks/{reply.webhook.webhook_id}"})


@router.get("/webhooks", response_model=WebhookList)
async def list_webhooks(request: Request, metadata: BearerMetadata) -> Response:
    """The business's endpoints (never their secrets)."""
    client = _client(request)
    reply = await client.webhooks.ListWebhooks(
        webhooks_pb2.ListWebhooksRequest(), timeout=client.timeout, metadata=metadata
    )
    return json_response({"webhooks": [webhook_json(w) for w in reply.webhooks]})


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=error_responses(404))
async def delete_webhook(
    request: Request, webhook_id: WebhookId, metadata: BearerMetadata
) -> Response:
    """Stop sending events to the endpoint."""
    client = _client(request)
    await client.webhooks.DeleteWebhook(
        webhooks_pb2.DeleteWebhookRequest(webhook_id=webhook_id),
        timeout=client.timeout,
        metadata=metadata,
    )
    return Response(status_code=204)
