"""Fixtures and PDF-reading helpers for the renderer's unit tests."""

from __future__ import annotations

import io
import threading
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pypdf import PdfReader

from services.renderer.pdf import InvoicePdfRenderer


@pytest.fixture(scope="session")
def renderer() -> InvoicePdfRenderer:
    """One renderer for the whole run, as a worker process holds one."""
    return InvoicePdfRenderer()


def page_texts(pdf: bytes) -> list[str]:
    """Each page's extracted text, NFC-normalised so composed and decomposed marks compare equal."""
    reader = PdfReader(io.BytesIO(pdf))
    return [unicodedata.normalize("NFC", page.extract_text()) for page in reader.pages]


def pdf_text(pdf: bytes) -> str:
    """The whole document's text."""
    return "\n".join(page_texts(pdf))


def squeeze(text: str) -> str:
    """Text without any whitespace: line wrapping must not decide a test."""
    return "".join(unicodedata.normalize("NFC", text).split())


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Embedded font names (without the subset tag), each with whether a glyph was missing.

    WeasyPrint gives a font a custom /Encoding CMap, instead of /Identity-H, exactly
    when some character had no glyph in it and was drawn as the .notdef box.
    """
    fonts: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            name = str(font["/BaseFont"]).split("+", 1)[-1]
            missing = font.get("/Encoding") != "/Identity-H"
            fonts[name] = fonts.get(name, False) or missing
    return fonts


class RecordingHandler(BaseHTTPRequestHandler):
    """Answers every request and records its path on the server."""

    def do_GET(self) -> None:  # the name http.server calls
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def listener() -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server on 127.0.0.1 (port 0) that records any request it receives."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
