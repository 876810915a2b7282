"""Renderers that misbehave on purpose, loaded by the render processes via RENDERER_FACTORY."""

from __future__ import annotations

import os
import time

from suoops.invoice.v1 import invoice_pb2

from services.renderer.pdf import InvoicePdfRenderer


class SlowRenderer:
    """The real renderer, after sleeping SLOW_RENDER_SECONDS (a render stuck in a long call)."""

    def __init__(self) -> None:
        self._inner = InvoicePdfRenderer()
        self._delay = float(os.environ.get("SLOW_RENDER_SECONDS", "3"))

    def render(self, invoice: invoice_pb2.Invoice) -> bytes:
        time.sleep(self._delay)
        return self._inner.render(invoice)
