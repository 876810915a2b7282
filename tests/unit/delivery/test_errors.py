"""Delivery errors: one shallow hierarchy, one-line texts, a retry delay on temporary ones."""

from __future__ import annotations

import pytest

from services.delivery.errors import (
    DeliveryError,
    PermanentDeliveryError,
    PrivateAddressError,
    TemporaryDeliveryError,
)

pytestmark = pytest.mark.unit


def test_every_error_is_a_delivery_error_and_never_both_kinds() -> None:
    assert issubclass(TemporaryDeliveryError, DeliveryError)
    assert issubclass(PermanentDeliveryError, DeliveryError)
    assert issubclass(PrivateAddressError, PermanentDeliveryError)
    assert not issubclass(PrivateAddressError, TemporaryDeliveryError)
    assert not issubclass(TemporaryDeliveryError, PermanentDeliveryError)


def test_a_multi_line_server_text_reads_as_one_line() -> None:
    error = PermanentDeliveryError("550-5.1.1 The email account\r\n550 5.1.1 does not exist")
    assert str(error) == "550-5.1.1 The email account 550 5.1.1 does not exist"


def test_temporary_errors_carry_retry_after_or_none() -> None:
    assert TemporaryDeliveryError("busy", retry_after=12.5).retry_after == 12.5
    assert TemporaryDeliveryError("busy").retry_after is None
