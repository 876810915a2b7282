"""WhatsApp pure parts: the recipient number and how Cloud API answers become errors."""

from __future__ import annotations

import httpx
import pytest

from services.delivery.errors import PermanentDeliveryError, TemporaryDeliveryError
from services.delivery.whatsapp import classify_response, whatsapp_recipient

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("phone", "to"),
    [
        ("+2348012345678", "2348012345678"),
        ("2348012345678", "2348012345678"),
        ("+234 801 234-5678", "2348012345678"),
        ("+1 (650) 555-1234", "16505551234"),
    ],
)
def test_recipient_is_the_digits_of_the_e164_number(phone: str, to: str) -> None:
    assert whatsapp_recipient(phone) == to


@pytest.mark.parametrize("phone", ["", "+", "08012345678", "+234abc", "+12", "+1234567890123456"])
def test_a_number_that_is_not_e164_is_a_permanent_error(phone: str) -> None:
    with pytest.raises(PermanentDeliveryError, match="customer_phone"):
        whatsapp_recipient(phone)


def _graph(status: int, message: str, code: int, **headers: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "OAuthException", "code": code}}
    return httpx.Response(status, json=body, headers=headers)


def test_429_is_temporary_with_retry_after_seconds() -> None:
    response = _graph(429, "(#130429) Rate limit hit", 130429, **{"Retry-After": "7"})
    error = classify_response(response)
    assert isinstance(error, TemporaryDeliveryError)
    assert error.retry_after == 7.0
    assert "Rate limit hit" in str(error)


def test_5xx_is_temporary_without_retry_after() -> None:
    error = classify_response(_graph(503, "Service temporarily unavailable", 2))
    assert isinstance(error, TemporaryDeliveryError)
    assert error.retry_after is None


def test_400_is_permanent_with_the_api_error_message() -> None:
    error = classify_response(_graph(400, "(#131026) Message undeliverable", 131026))
    assert isinstance(error, PermanentDeliveryError)
    assert "(#131026) Message undeliverable" in str(error)
    assert "HTTP 400" in str(error)


def test_a_non_json_error_body_is_shown_briefly() -> None:
    error = classify_response(httpx.Response(502, text="<html>Bad gateway</html>" + "x" * 500))
    assert isinstance(error, TemporaryDeliveryError)
    assert "Bad gateway" in str(error) and len(str(error)) < 300
