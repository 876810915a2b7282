"""Retry-After is read as delay seconds or an HTTP date; nonsense reads as absent."""

from __future__ import annotations

import datetime as dt

import pytest

from services.delivery.retry_after import MAX_RETRY_AFTER, parse_retry_after

pytestmark = pytest.mark.unit

NOW = dt.datetime(2026, 1, 5, 12, 0, 0, tzinfo=dt.UTC)


def test_delay_seconds_are_read_as_seconds() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0
    assert parse_retry_after(" 0 ", now=NOW) == 0.0


def test_an_http_date_is_read_as_the_seconds_until_it() -> None:
    assert parse_retry_after("Mon, 05 Jan 2026 12:01:30 GMT", now=NOW) == 90.0


def test_an_http_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Mon, 05 Jan 2026 11:00:00 GMT", now=NOW) == 0.0


def test_a_huge_delay_is_capped_at_a_day() -> None:
    assert parse_retry_after("99999999", now=NOW) == MAX_RETRY_AFTER


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5e3", "Mon, 99 Foo 2026"])
def test_an_absent_or_unreadable_header_gives_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None
