"""suoops.invoice.v1.WebhookService: a business registers, lists and deletes its webhooks."""

from __future__ import annotations

from suoops.invoice.v1 import webhooks_pb2 as pb
from suoops.invoice.v1 import webhooks_pb2_grpc

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.webhooks import Webhook
from services.invoice.entrypoints.invoice_servicer import Context, bearer_token
from services.invoice.entrypoints.messages import timestamp
from services.invoice.service_layer import webhooks


def webhook_to_pb(webhook: Webhook) -> pb.Webhook:
    """A webhook as the API shows it: never its secret."""
    return pb.Webhook(
        webhook_id=webhook.webhook_id,
        url=webhook.url,
        events=list(webhook.events),
        created_at=timestamp(webhook.created_at),
    )


class WebhookServicer(webhooks_pb2_grpc.WebhookServiceServicer):
    """The business's webhook endpoints."""

    def __init__(self, app: InvoiceApp) -> None:
        self._app = app

    async def _business(self, context: Context) -> int:
        principal = await self._app.authenticator.authenticate(bearer_token(context))
        return principal.require_business()

    async def CreateWebhook(
        self, request: pb.CreateWebhookRequest, context: Context
    ) -> pb.CreateWebhookResponse:
        webhook = await webhooks.register_webhook(
            self._app.unit_of_work(),
            await self._business(context),
            request.url,
            list(request.events),
        )
        return pb.CreateWebhookResponse(webhook=webhook_to_pb(webhook), secret=webhook.secret)

    async def ListWebhooks(
        self, request: pb.ListWebhooksRequest, context: Context
    ) -> pb.ListWebhooksResponse:
        found = await webhooks.list_webhooks(
            self._app.autocommit_unit_of_work(), await self._business(context)
        )
        return pb.ListWebhooksResponse(webhooks=[webhook_to_pb(w) for w in found])

    async def DeleteWebhook(
        self, request: pb.DeleteWebhookRequest, context: Context
    ) -> pb.DeleteWebhookResponse:
        await webhooks.delete_webhook(
            self._app.unit_of_work(), await self._business(context), request.webhook_id
        )
        return pb.DeleteWebhookResponse()
