"""Readiness checks for the children: a gRPC health check, an HTTP 200."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable

from services.dev.ports import split_address


def grpc_serving(address: str, timeout: float = 1.0) -> Callable[[], bool]:
    """True once the gRPC server at `address` answers its health check with SERVING."""
    host, port = split_address(address)
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def check() -> bool:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
            except grpc.RpcError as error:
                # A server without the health service still proves its port is up.
                return bool(error.code() == grpc.StatusCode.UNIMPLEMENTED)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    return check


def http_ok(url: str, timeout: float = 1.0) -> Callable[[], bool]:
    """True once GET `url` answers 200."""

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    return check
