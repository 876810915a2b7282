"""A local HTTP(S) server that records webhook deliveries and answers a scripted status list.

with WebhookReceiver() as hooks:
    hooks.answer_next(500, 500)          # then 200 again
    ... register hooks.url ...
    first, second, third = hooks.wait_for_requests(3)
    assert verify(secret, third.body, third.headers["SuoOps-Signature"])
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.background_server import BackgroundServer
from tests.support.tls import LocalCertificate


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the receiver saw it, and the status it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        """A header by name, whatever its case."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class WebhookReceiver(BackgroundServer):
    """Answers each request with the next scripted status (200 once the script is spent)."""

    def __init__(self, *, certificate: LocalCertificate | None = None) -> None:
        self.requests: list[ReceivedRequest] = []
        self._script: list[tuple[int, dict[str, str]]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers = receiver._next_status()
                with receiver._lock:
                    receiver.requests.append(
                        ReceivedRequest(
                            self.command, self.path, dict(self.headers.items()), body, status
                        )
                    )
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PUT = do_POST

        super().__init__(Handler)
        self.scheme = "http"
        if certificate is not None:
            # HTTPS: the handshake happens as each connection is accepted.
            context = certificate.server_context()
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The receiver's URL (path ``/hooks``)."""
        return f"{self.scheme}://127.0.0.1:{self.port}/hooks"

    def answer_next(self, *statuses: int, headers: dict[str, str] | None = None) -> None:
        """Answers the next requests with these statuses, in order, then 200 again."""
        with self._lock:
            self._script.extend((status, dict(headers or {})) for status in statuses)

    def wait_for_requests(self, count: int, timeout: float = 20.0) -> list[ReceivedRequest]:
        """The first ``count`` requests, waiting for them up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests[:count])
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")

    def _next_status(self) -> tuple[int, dict[str, str]]:
        with self._lock:
            return self._script.pop(0) if self._script else (200, {})
