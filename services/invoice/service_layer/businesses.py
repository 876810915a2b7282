"""Handlers for businesses and operators and their bearer tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.invoice.domain.errors import FieldError, InvalidInput
from services.invoice.domain.model import Business, new_business_id
from services.invoice.service_layer.auth import (
    ROLE_BUSINESS,
    ROLE_OPERATOR,
    hash_token,
    new_token,
)
from services.invoice.service_layer.invoices import utc_now
from services.invoice.service_layer.unit_of_work import UnitOfWork

MAX_NAME = 200


def _checked_name(name: str) -> str:
    trimmed = name.strip()
    if not trimmed or len(trimmed) > MAX_NAME or "\x00" in trimmed:
        raise InvalidInput([FieldError("name", f"must be 1 to {MAX_NAME} characters")])
    return trimmed


async def create_business(
    uow: UnitOfWork, name: str, clock: Callable[[], datetime] = utc_now
) -> tuple[Business, str]:
    """Create a business and its first bearer token; the token is shown only now."""
    business = Business(public_id=new_business_id(), name=_checked_name(name), created_at=clock())
    token = new_token()
    async with uow:
        uow.businesses.add(business)
        await uow.flush()
        await uow.businesses.add_token(hash_token(token), ROLE_BUSINESS, business.name, business.id)
        await uow.commit()
    return business, token


async def create_operator(uow: UnitOfWork, name: str) -> str:
    """Create an operator token for the dashboard and operator calls."""
    token = new_token()
    async with uow:
        await uow.businesses.add_token(hash_token(token), ROLE_OPERATOR, _checked_name(name), None)
        await uow.commit()
    return token
