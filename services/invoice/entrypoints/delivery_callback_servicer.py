"""suoops.invoice.v1.DeliveryCallbackService: the delivery workers claim and report here."""

from __future__ import annotations

from datetime import timedelta

from suoops.invoice.v1 import delivery_callback_pb2 as pb
from suoops.invoice.v1 import delivery_callback_pb2_grpc, invoice_pb2

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.errors import FieldError, InvalidInput
from services.invoice.entrypoints.callback_servicer import require_internal
from services.invoice.entrypoints.event_data import invoice_describer
from services.invoice.entrypoints.invoice_servicer import Context
from services.invoice.entrypoints.messages import CHANNEL_FROM_PB, invoice_to_pb
from services.invoice.service_layer import deliveries, webhooks


def _channel(value: invoice_pb2.DeliveryChannel.ValueType) -> str:
    channel = CHANNEL_FROM_PB.get(value)
    if channel is None:
        raise InvalidInput([FieldError("channel", "must be email or whatsapp")])
    return channel


def _claim(value: str) -> str:
    if not value or len(value) > 64:
        raise InvalidInput([FieldError("claim", "must be 1 to 64 characters")])
    return value


class DeliveryCallbackServicer(delivery_callback_pb2_grpc.DeliveryCallbackServiceServicer):
    """Deliveries claimed before they are sent, and webhook attempts counted and reported."""

    def __init__(self, app: InvoiceApp) -> None:
        self._app = app
        self._describe = invoice_describer(app.pdf_url)

    def _check(self, context: Context) -> None:
        require_internal(context, self._app.settings.internal_token)

    async def _finish(
        self,
        request: pb.CompleteDeliveryRequest | pb.FailDeliveryRequest,
        *,
        error: str | None = None,
        final: bool = True,
    ) -> bool:
        """Record a delivery's outcome (sent when no error); its event jobs go out at once."""
        applied = await deliveries.finish_delivery(
            self._app.unit_of_work(),
            request.invoice_id,
            _channel(request.channel),
            _claim(request.claim),
            self._describe,
            error=error,
            final=final,
        )
        if applied:
            self._app.jobs_committed()
        return applied

    async def StartDelivery(
        self, request: pb.StartDeliveryRequest, context: Context
    ) -> pb.StartDeliveryResponse:
        self._check(context)
        started = await deliveries.start_delivery(
            self._app.unit_of_work(),
            request.invoice_id,
            _channel(request.channel),
            _claim(request.claim),
            timedelta(seconds=self._app.settings.delivery_claim_lease_seconds),
        )
        if started is None:
            return pb.StartDeliveryResponse(send=False)
        invoice, delivery = started
        public_id, name = await self._app.pdf_states.business_of(invoice.business_id)
        return pb.StartDeliveryResponse(
            send=True,
            invoice=invoice_to_pb(invoice, business_public_id=public_id, business_name=name),
            pdf_storage_key=invoice.pdf_storage_key or "",
            pdf_url=self._app.pdf_url(invoice),
            attempts=delivery.attempts,
        )

    async def CompleteDelivery(
        self, request: pb.CompleteDeliveryRequest, context: Context
    ) -> pb.CompleteDeliveryResponse:
        self._check(context)
        return pb.CompleteDeliveryResponse(applied=await self._finish(request))

    async def FailDelivery(
        self, request: pb.FailDeliveryRequest, context: Context
    ) -> pb.FailDeliveryResponse:
        self._check(context)
        applied = await self._finish(
            request, error=request.error or "delivery failed", final=request.final
        )
        return pb.FailDeliveryResponse(applied=applied)

    async def StartWebhookAttempt(
        self, request: pb.StartWebhookAttemptRequest, context: Context
    ) -> pb.StartWebhookAttemptResponse:
        self._check(context)
        attempt = await webhooks.start_attempt(self._app.unit_of_work(), request.event_id)
        if attempt is None:
            return pb.StartWebhookAttemptResponse(send=False, event_id=request.event_id)
        return pb.StartWebhookAttemptResponse(
            send=True,
            url=attempt.url,
            secret=attempt.secret,
            body=attempt.body,
            event_id=attempt.event_id,
            attempts=attempt.attempts,
        )

    async def CompleteWebhookAttempt(
        self, request: pb.CompleteWebhookAttemptRequest, context: Context
    ) -> pb.CompleteWebhookAttemptResponse:
        self._check(context)
        applied = await webhooks.finish_attempt(self._app.unit_of_work(), request.event_id)
        return pb.CompleteWebhookAttemptResponse(applied=applied)

    async def FailWebhookAttempt(
        self, request: pb.FailWebhookAttemptRequest, context: Context
    ) -> pb.FailWebhookAttemptResponse:
        self._check(context)
        applied = await webhooks.finish_attempt(
            self._app.unit_of_work(),
            request.event_id,
            error=request.error or "webhook delivery failed",
            final=request.final,
            window=timedelta(hours=self._app.settings.webhook_retry_window_hours),
        )
        return pb.FailWebhookAttemptResponse(applied=applied)
