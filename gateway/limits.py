"""The request body size limit, for declared (Content-Length) and chunked bodies alike."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import PayloadTooLarge, api_error_response

MAX_BODY_BYTES = 1024 * 1024


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is over {max_bytes} bytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodySizeLimit:
    """ASGI middleware: 413 when a body is, or turns out to be, over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized declared length at once; count the bytes of a chunked body."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None:
            # Chunked (or HTTP/2) bodies have no declared size: count what arrives.
            await self.app(scope, self._counting(receive), send)
        elif declared > self.max_bytes:
            await api_error_response(_too_large(self.max_bytes))(scope, receive, send)
        else:
            # The server never delivers more than the declared Content-Length.
            await self.app(scope, receive, send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0
        max_bytes = self.max_bytes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Raised inside the route's body read, so the route answers 413.
                    raise _too_large(max_bytes)
            return message

        return counting_receive
