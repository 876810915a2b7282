"""Builds the invoice service's gRPC server: API, render callbacks, health and reflection."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from suoops.invoice.v1 import (
    invoice_pb2,
    invoice_pb2_grpc,
    maintenance_pb2,
    maintenance_pb2_grpc,
    render_callback_pb2,
    render_callback_pb2_grpc,
)

from services.common.grpc_metrics import RpcMetricsInterceptor
from services.invoice.bootstrap import InvoiceApp
from services.invoice.entrypoints.callback_servicer import RenderCallbackServicer
from services.invoice.entrypoints.errors import ErrorMappingInterceptor
from services.invoice.entrypoints.invoice_servicer import InvoiceServicer
from services.invoice.entrypoints.maintenance_servicer import MaintenanceServicer

SERVICE_NAMES = (
    invoice_pb2.DESCRIPTOR.services_by_name["InvoiceService"].full_name,
    render_callback_pb2.DESCRIPTOR.services_by_name["RenderCallbackService"].full_name,
    maintenance_pb2.DESCRIPTOR.services_by_name["MaintenanceService"].full_name,
)


async def create_server(app: InvoiceApp, address: str) -> tuple[grpc.aio.Server, int]:
    """A server bound to `address` (port 0 picks a free one); returns it and its port."""
    server = grpc.aio.server(
        # Metrics outermost: they see the status code the error mapping chose.
        interceptors=[RpcMetricsInterceptor(), ErrorMappingInterceptor()],
        # Refuse to share the port: two services on one address is a mistake, not a pool.
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 4 * 1024 * 1024)],
    )
    invoice_pb2_grpc.add_InvoiceServiceServicer_to_server(InvoiceServicer(app), server)
    render_callback_pb2_grpc.add_RenderCallbackServiceServicer_to_server(
        RenderCallbackServicer(app), server
    )
    maintenance_pb2_grpc.add_MaintenanceServiceServicer_to_server(MaintenanceServicer(app), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port
