"""The workers' blocking channel to the invoice service's internal gRPC services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import grpc

from services.common.tracing_grpc import traced_channel

CALL_DEADLINE_SECONDS = 10.0
_Reply = TypeVar("_Reply")


class InternalChannel:
    """A traced channel whose every call carries the internal credential and a deadline."""

    def __init__(self, address: str, internal_token: str) -> None:
        self.channel: grpc.Channel = traced_channel(address)
        self._metadata = (("authorization", f"Bearer {internal_token}"),)

    def call(self, method: Callable[..., _Reply], request: Any) -> _Reply:
        """Call one unary method of a stub made on `channel` (safe from any thread)."""
        return method(request, metadata=self._metadata, timeout=CALL_DEADLINE_SECONDS)

    def close(self) -> None:
        self.channel.close()
