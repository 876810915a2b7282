"""What the gateway's ASGI middleware learn about a response as it goes out."""

from __future__ import annotations

from starlette.types import Message, Scope, Send


class ResponseStatus:
    """Wraps an ASGI `send` to note the response's status (500 until one is sent)."""

    def __init__(self, send: Send) -> None:
        self.code = 500
        self._send = send

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.code = message["status"]
        await self._send(message)


def route_template(scope: Scope) -> str | None:
    """The matched route's path template (`/invoices/{invoice_id}`); None before or unmatched."""
    # The router stores the matched route in the scope once it has routed the request.
    path = getattr(scope.get("route"), "path", None)
    return str(path) if path is not None else None
