"""A local HTTP server that speaks the WhatsApp Cloud API's messages endpoint.

    with WhatsAppTestApi(token="test-token") as api:
        client = WhatsAppClient(api.api_url, api.phone_number_id, "test-token")
        api.answer_next(429, retry_after="7")         # then 200 again
        api.answer_next(400, message="(#131009) Parameter value is not valid")
        ... send ...
        assert api.documents()[0]["document"]["filename"] == "INV-000001.pdf"

It checks the bearer token (401 Graph error otherwise) and the document message
shape (400 Graph error naming the field otherwise), records every request, and
with ``fetch_links=True`` downloads each document link as the real API would.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.background_server import BackgroundServer


@dataclass
class ApiRequest:
    """One request the API received, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    payload: Any = None
    fetched: bytes | None = field(default=None, repr=False)
    fetch_error: str | None = None


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def graph_error(message: str, *, code: int, type_: str = "OAuthException") -> dict[str, Any]:
    """The Graph API's error body."""
    return {
        "error": {
            "message": message,
            "type": type_,
            "code": code,
            "error_subcode": 2494010 if code == 131009 else None,
            "fbtrace_id": "A" + uuid.uuid4().hex[:20],
        }
    }


def _shape_error(payload: Any) -> str | None:
    """What is wrong with a document message, or None when it is well formed."""
    if not isinstance(payload, dict):
        return "(#100) The request body must be a JSON object"
    if payload.get("messaging_product") != "whatsapp":
        return "(#100) The parameter messaging_product is required and must be whatsapp"
    if payload.get("recipient_type", "individual") != "individual":
        return "(#100) Param recipient_type must be individual"
    to = payload.get("to")
    if not isinstance(to, str) or not to.isdigit() or not 7 <= len(to) <= 15:
        return "(#100) Param to must be a phone number in international format (digits)"
    if payload.get("type") != "document":
        return "(#100) Param type must be document"
    document = payload.get("document")
    if not isinstance(document, dict):
        return "(#100) Param document is required"
    link = document.get("link")
    if not isinstance(link, str) or not link.startswith(("http://", "https://")):
        return "(#100) Param document['link'] must be a valid URL"
    if not isinstance(document.get("filename"), str) or not document["filename"]:
        return "(#100) Param document['filename'] is required"
    caption = document.get("caption", "")
    if not isinstance(caption, str) or len(caption) > 1024:
        return "(#100) Param document['caption'] must be a string of at most 1024 characters"
    return None


class WhatsAppTestApi(BackgroundServer):
    """The Cloud API on 127.0.0.1 and a free port, in its own thread."""

    def __init__(
        self,
        *,
        token: str = "test-whatsapp-token",
        phone_number_id: str = "106540352242922",
        version: str = "v21.0",
        fetch_links: bool = False,
    ) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.version = version
        self.fetch_links = fetch_links
        self.requests: list[ApiRequest] = []
        self._script: list[_Reply] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                record = ApiRequest(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                reply = api._answer(record)
                record.status = reply.status
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        super().__init__(Handler)

    @property
    def api_url(self) -> str:
        """The WHATSAPP_API_URL of this server (the Graph base with its version)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/{self.version}"

    def answer_next(
        self,
        status: int,
        *,
        message: str = "",
        code: int | None = None,
        retry_after: str | None = None,
        times: int = 1,
    ) -> None:
        """Answers the next ``times`` well-formed requests with this status and a Graph error."""
        text = message or {
            429: "(#130429) Rate limit hit",
            500: "An unknown error has occurred.",
            503: "Service temporarily unavailable",
        }.get(status, "(#131009) Parameter value is not valid")
        error_code = code if code is not None else {429: 130429, 500: 1, 503: 2}.get(status, 131009)
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        with self._lock:
            self._script.extend(
                [_Reply(status, graph_error(text, code=error_code), headers)] * times
            )

    def documents(self) -> list[dict[str, Any]]:
        """The document messages the API accepted (answered 200), in order."""
        with self._lock:
            return [r.payload for r in self.requests if r.status == 200]

    def wait_for_documents(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The first ``count`` accepted messages, waiting for them up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            accepted = self.documents()
            if len(accepted) >= count:
                return accepted[:count]
            time.sleep(0.05)
        raise AssertionError(f"expected {count} WhatsApp documents, got {len(self.documents())}")

    def _answer(self, record: ApiRequest) -> _Reply:
        """Checks path, token and shape, then plays the script or accepts."""
        with self._lock:
            self.requests.append(record)
        if (
            record.method != "POST"
            or record.path != f"/{self.version}/{self.phone_number_id}/messages"
        ):
            return _Reply(404, graph_error("Unknown path components", code=2500), {})
        if record.headers.get("Authorization") != f"Bearer {self.token}":
            return _Reply(
                401,
                graph_error("Invalid OAuth access token - Cannot parse access token", code=190),
                {},
            )
        try:
            record.payload = json.loads(record.body)
        except ValueError:
            record.payload = None
        problem = _shape_error(record.payload)
        if problem is not None:
            return _Reply(400, graph_error(problem, code=100), {})
        with self._lock:
            if self._script:
                return self._script.pop(0)
        if self.fetch_links:
            self._fetch(record)
        to = record.payload["to"]
        message_id = f"wamid.{uuid.uuid4().hex.upper()}"
        return _Reply(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": message_id}],
            },
            {},
        )

    @staticmethod
    def _fetch(record: ApiRequest) -> None:
        """Downloads the document link, as WhatsApp's servers would."""
        try:
            with urllib.request.urlopen(record.payload["document"]["link"], timeout=10) as reply:
                record.fetched = reply.read()
        except OSError as exc:
            record.fetch_error = str(exc)
