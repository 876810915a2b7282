"""The delivery workers' calls to the invoice service (its DeliveryCallbackService)."""

from __future__ import annotations

from suoops.invoice.v1 import delivery_callback_pb2 as pb
from suoops.invoice.v1 import delivery_callback_pb2_grpc, invoice_pb2

from services.common.internal_channel import InternalChannel

CHANNELS = {
    "email": invoice_pb2.DELIVERY_CHANNEL_EMAIL,
    "whatsapp": invoice_pb2.DELIVERY_CHANNEL_WHATSAPP,
}


class DeliveryCallbacks:
    """Blocking calls, each with the internal credential and a deadline (from worker threads)."""

    def __init__(self, address: str, internal_token: str) -> None:
        self._internal = InternalChannel(address, internal_token)
        self._stub = delivery_callback_pb2_grpc.DeliveryCallbackServiceStub(self._internal.channel)

    def start_delivery(self, invoice_id: str, channel: str, claim: str) -> pb.StartDeliveryResponse:
        """Claim the delivery (record before send); `send` false means skip it."""
        return self._internal.call(
            self._stub.StartDelivery,
            pb.StartDeliveryRequest(invoice_id=invoice_id, channel=CHANNELS[channel], claim=claim),
        )

    def delivered(self, invoice_id: str, channel: str, claim: str) -> bool:
        reply = self._internal.call(
            self._stub.CompleteDelivery,
            pb.CompleteDeliveryRequest(
                invoice_id=invoice_id, channel=CHANNELS[channel], claim=claim
            ),
        )
        return bool(reply.applied)

    def delivery_failed(
        self, invoice_id: str, channel: str, claim: str, error: str, *, final: bool
    ) -> bool:
        reply = self._internal.call(
            self._stub.FailDelivery,
            pb.FailDeliveryRequest(
                invoice_id=invoice_id,
                channel=CHANNELS[channel],
                claim=claim,
                error=error,
                final=final,
            ),
        )
        return bool(reply.applied)

    def start_webhook_attempt(self, event_id: str) -> pb.StartWebhookAttemptResponse:
        return self._internal.call(
            self._stub.StartWebhookAttempt,
            pb.StartWebhookAttemptRequest(event_id=event_id),
        )

    def webhook_sent(self, event_id: str) -> bool:
        reply = self._internal.call(
            self._stub.CompleteWebhookAttempt,
            pb.CompleteWebhookAttemptRequest(event_id=event_id),
        )
        return bool(reply.applied)

    def webhook_failed(self, event_id: str, error: str, *, final: bool) -> bool:
        reply = self._internal.call(
            self._stub.FailWebhookAttempt,
            pb.FailWebhookAttemptRequest(event_id=event_id, error=error, final=final),
        )
        return bool(reply.applied)

    def close(self) -> None:
        self._internal.close()
