"""Reads an HTTP ``Retry-After`` header: delay seconds or an HTTP date."""

from __future__ import annotations

import datetime as dt
import email.utils

# A server asking for more than a day is treated as asking for a day.
MAX_RETRY_AFTER = 86_400.0


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait, or None when the header is absent or unreadable; never negative."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are GMT; a date without a zone is read as UTC.
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return min(max((when - current).total_seconds(), 0.0), MAX_RETRY_AFTER)
