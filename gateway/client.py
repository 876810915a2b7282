"""The gateway's one gRPC channel to the invoice service, with its stubs and deadlines."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from suoops.invoice.v1 import (
    invoice_pb2,
    invoice_pb2_grpc,
    operations_pb2_grpc,
    reports_pb2_grpc,
    webhooks_pb2_grpc,
)

from services.common.settings import Settings
from services.common.tracing_grpc import traced_aio_channel

# Reconnect quickly after the invoice service restarts; gRPC's default backoff grows to 2 min.
CHANNEL_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
)
# readyz must answer fast whatever the configured call deadline is.
READY_DEADLINE_SECONDS = 1.0
# The health of the API the gateway uses, not just of the process ("" would be).
INVOICE_SERVICE_NAME = invoice_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name


class InvoiceClient:
    """The channel and stubs every request shares; created and closed by the app's lifespan."""

    def __init__(self, channel: grpc.aio.Channel, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.invoices = invoice_pb2_grpc.InvoiceServiceStub(channel)
        self.reports = reports_pb2_grpc.ReportServiceStub(channel)
        self.operations = operations_pb2_grpc.OperationsServiceStub(channel)
        self.webhooks = webhooks_pb2_grpc.WebhookServiceStub(channel)
        self._health = health_pb2_grpc.HealthStub(channel)

    @classmethod
    def connect(cls, settings: Settings) -> InvoiceClient:
        """A client for `settings.invoice_grpc_addr` (the channel connects lazily)."""
        channel = traced_aio_channel(settings.invoice_grpc_addr, options=CHANNEL_OPTIONS)
        return cls(channel, settings.gateway_grpc_timeout_seconds)

    async def is_serving(self) -> bool:
        """Whether the invoice service's health check answers SERVING within a short deadline."""
        try:
            reply = await self._health.Check(
                health_pb2.HealthCheckRequest(service=INVOICE_SERVICE_NAME),
                timeout=min(READY_DEADLINE_SECONDS, self.timeout),
            )
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        """Close the channel, cancelling calls still in flight."""
        await self.channel.close()
