"""Builds the invoice service's gRPC server: API, render callbacks, health and reflection."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from suoops.invoice.v1 import (
    delivery_callback_pb2,
    delivery_callback_pb2_grpc,
    invoice_pb2,
    invoice_pb2_grpc,
    maintenance_pb2,
    maintenance_pb2_grpc,
    operations_pb2,
    operations_pb2_grpc,
    render_callback_pb2,
    render_callback_pb2_grpc,
    reports_pb2,
    reports_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)

from services.common.grpc_metrics import RpcMetricsInterceptor
from services.common.tracing_grpc import TracingServerInterceptor
from services.invoice.bootstrap import InvoiceApp
from services.invoice.entrypoints.callback_servicer import RenderCallbackServicer
from services.invoice.entrypoints.delivery_callback_servicer import DeliveryCallbackServicer
from services.invoice.entrypoints.errors import ErrorMappingInterceptor
from services.invoice.entrypoints.invoice_servicer import InvoiceServicer
from services.invoice.entrypoints.maintenance_servicer import MaintenanceServicer
from services.invoice.entrypoints.operations_servicer import OperationsServicer
from services.invoice.entrypoints.report_servicer import ReportCallbackServicer, ReportServicer
from services.invoice.entrypoints.webhook_servicer import WebhookServicer

SERVICE_NAMES = (
    invoice_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name,
    render_callback_pb2.DESCRIPTOR.services_by_name["RenderCallbackService"].full_name,
    maintenance_pb2.DESCRIPTOR.services_by_name["MaintenanceService"].full_name,
    delivery_callback_pb2.DESCRIPTOR.services_by_name["DeliveryCallbackService"].full_name,
    webhooks_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name,
    reports_pb2.DESCRIPTOR.services_by_name["ReportService"].full_name,
    reports_pb2.DESCRIPTOR.services_by_name["ReportCallbackService"].full_name,
    operations_pb2.DESCRIPTOR.services_by_name["OperationsService"].full_name,
)


async def create_server(app: InvoiceApp, address: str) -> tuple[grpc.aio.Server, int]:
    """A server bound to `address` (port 0 picks a free one); returns it and its port."""
    server = grpc.aio.server(
        # Tracing outermost (every layer runs in the caller's trace); then metrics, which
        # see the status code the error mapping chose.
        interceptors=[
            TracingServerInterceptor(),
            RpcMetricsInterceptor(),
            ErrorMappingInterceptor(),
        ],
        # Refuse to share the port: two services on one address is a mistake, not a pool.
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 4 * 1024 * 1024)],
    )
    invoice_pb2_grpc.add_InvoiceServiceServicer_to_server(InvoiceServicer(app), server)
    render_callback_pb2_grpc.add_RenderCallbackServiceServicer_to_server(
        RenderCallbackServicer(app), server
    )
    maintenance_pb2_grpc.add_MaintenanceServiceServicer_to_server(MaintenanceServicer(app), server)
    delivery_callback_pb2_grpc.add_DeliveryCallbackServiceServicer_to_server(
        DeliveryCallbackServicer(app), server
    )
    webhooks_pb2_grpc.add_WebhookServiceServicer_to_server(WebhookServicer(app), server)
    reports_pb2_grpc.add_ReportServiceServicer_to_server(ReportServicer(app), server)
    reports_pb2_grpc.add_ReportCallbackServiceServicer_to_server(
        ReportCallbackServicer(app), server
    )
    operations_pb2_grpc.add_OperationsServiceServicer_to_server(OperationsServicer(app), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port
