"""Sends a PDF as a WhatsApp Cloud API document message."""

from __future__ import annotations

import re
from typing import Any

import httpx

from services.delivery.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from services.delivery.retry_after import parse_retry_after

_E164 = re.compile(r"^\+?[1-9]\d{6,14}$")


def whatsapp_recipient(phone: str) -> str:
    """The ``to`` the Cloud API expects: the E.164 number's digits, without the ``+``."""
    compact = re.sub(r"[\s\-().]", "", phone)
    if not _E164.match(compact):
        raise PermanentDeliveryError(f"customer_phone {phone!r} is not an E.164 number")
    return compact.lstrip("+")


def graph_error_text(response: httpx.Response) -> str:
    """The Graph API's ``error.message`` (with its code), or the start of the body."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and error.get("message"):
        message = " ".join(str(error["message"]).split())
        code = error.get("code")
        subcode = error.get("error_subcode")
        detail = f"code {code}" if code is not None else ""
        if subcode is not None:
            detail += f", subcode {subcode}"
        return f"{message} ({detail})" if detail else message
    text = " ".join(response.text.split())[:200]
    return text or response.reason_phrase


def classify_response(response: httpx.Response) -> DeliveryError:
    """The error a non-2xx Cloud API answer stands for: 429 and 5xx retry, other 4xx do not."""
    status = response.status_code
    text = graph_error_text(response)
    if status == 429 or status >= 500:
        return TemporaryDeliveryError(
            f"WhatsApp API answered HTTP {status}: {text}",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    return PermanentDeliveryError(f"WhatsApp API refused the message (HTTP {status}): {text}")


class WhatsAppClient:
    """A client of the Cloud API's messages endpoint for one business phone number."""

    def __init__(
        self, api_url: str, phone_number_id: str, token: str, *, timeout: float = 30.0
    ) -> None:
        self._endpoint = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._token = token
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"WhatsAppClient(endpoint={self._endpoint!r})"

    def send_document(self, to: str, link: str, filename: str, caption: str) -> str:
        """Sends the document at ``link`` to the phone ``to``; returns the message id."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": whatsapp_recipient(to),
            "type": "document",
            "document": {"link": link, "filename": filename, "caption": caption},
        }
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            with httpx.Client(timeout=self._timeout) as client:
                response = client.post(self._endpoint, json=body, headers=headers)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise TemporaryDeliveryError(f"could not reach the WhatsApp API: {reason}") from None
        if not response.is_success:
            raise classify_response(response)
        try:
            message_id = response.json()["messages"][0]["id"]
        except (ValueError, KeyError, IndexError, TypeError):
            message_id = None
        if not isinstance(message_id, str) or not message_id:
            # The message may have gone out: sending again could duplicate it.
            raise PermanentDeliveryError("WhatsApp API accepted the message without a message id")
        return message_id
