"""A webhook event's `data`: the invoice exactly as the REST API shows it (CONTRACT §2)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from services.common.invoice_json import invoice_json
from services.invoice.domain.model import Invoice
from services.invoice.entrypoints.messages import invoice_to_pb

log = logging.getLogger(__name__)


def invoice_describer(pdf_url: Callable[[Invoice], str]) -> Callable[[Invoice, str, str], Any]:
    """Builds event data with a fresh link to the PDF (for as long as links last)."""

    def describe(invoice: Invoice, business_public_id: str, business_name: str) -> dict[str, Any]:
        try:
            link = pdf_url(invoice)
        except Exception as exc:  # a link is a courtesy: never worth losing the event over
            log.warning(
                "no PDF link for the event",
                extra={"invoice_id": invoice.invoice_id, "error": type(exc).__name__},
            )
            link = ""
        return invoice_json(
            invoice_to_pb(
                invoice,
                business_public_id=business_public_id,
                business_name=business_name,
                pdf_url=link,
            )
        )

    return describe
