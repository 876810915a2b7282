"""Bearer token parsing and the body size limit, without a server."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.auth import bearer_token
from gateway.errors import PayloadTooLarge, Unauthenticated
from gateway.limits import BodySizeLimit

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.DEF-123_~", "abc.DEF-123_~"), ("bearer tok", "tok"), ("BEARER  tok ", "tok")],
)
def test_bearer_token_is_read_from_the_header(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic abc", "Token abc", "Bearer a b", "Bearer tök", "abc"],
)
def test_missing_or_malformed_header_is_unauthenticated(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        bearer_token(header)


def http_scope(headers: list[tuple[bytes, bytes]]) -> Scope:
    """A minimal HTTP scope for a POST."""
    return {"type": "http", "method": "POST", "path": "/invoices", "headers": headers}


class BodyReader:
    """An ASGI app that reads the whole body, as the create route does."""

    def __init__(self) -> None:
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break


def run(app: Any, scope: Scope, chunks: list[bytes]) -> list[Message]:
    """Drive `app` with `chunks` as the body; returns what it sent."""
    sent: list[Message] = []
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> Message:
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    return sent


def test_declared_length_over_the_limit_is_refused_without_reading() -> None:
    reader = BodyReader()
    sent = run(BodySizeLimit(reader, 10), http_scope([(b"content-length", b"11")]), [b"x" * 11])
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"
    assert reader.body == b""


def test_declared_length_within_the_limit_passes() -> None:
    reader = BodyReader()
    sent = run(BodySizeLimit(reader, 10), http_scope([(b"content-length", b"10")]), [b"x" * 10])
    assert sent == []
    assert reader.body == b"x" * 10


def test_chunked_body_over_the_limit_raises_while_being_read() -> None:
    reader = BodyReader()
    with pytest.raises(PayloadTooLarge):
        run(
            BodySizeLimit(reader, 10),
            http_scope([(b"transfer-encoding", b"chunked")]),
            [b"x" * 6, b"x" * 5],
        )
    assert reader.body == b"x" * 6


def test_chunked_body_at_the_limit_passes() -> None:
    reader = BodyReader()
    run(
        BodySizeLimit(reader, 10),
        http_scope([(b"transfer-encoding", b"chunked")]),
        [b"x" * 6, b"x" * 4],
    )
    assert reader.body == b"x" * 10
