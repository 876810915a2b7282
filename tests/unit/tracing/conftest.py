"""Tracing fixtures for these tests."""

from collections.abc import Iterator

import pytest

from services.common.tracing import bind_invoice, unbind_invoice
from tests.support.spans import finished_spans

__all__ = ["finished_spans"]


@pytest.fixture(autouse=True)
def no_invoice_bound() -> Iterator[None]:
    """Each test starts with no invoice named, whatever ran before it in this process."""
    token = bind_invoice(None)
    yield
    unbind_invoice(token)
