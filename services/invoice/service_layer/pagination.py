"""Opaque page tokens for newest-first listing."""

from __future__ import annotations

import base64
import binascii

from services.invoice.domain.errors import FieldError, InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_PREFIX = "p1:"


def encode_page_token(before_pk: int) -> str:
    """A token that resumes listing below this row."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{before_pk}".encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int | None:
    """The row to resume below, or None for the first page."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        if text.startswith(_PREFIX):
            value = int(text[len(_PREFIX) :])
            if value > 0:
                return value
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise InvalidInput([FieldError("page_token", "is not a token this service issued")])


def check_page_size(page_size: int) -> int:
    """The page size to use: 0 means the default."""
    if page_size == 0:
        return DEFAULT_PAGE_SIZE
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput([FieldError("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")])
    return page_size
