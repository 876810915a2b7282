"""Who is calling: bearer tokens resolved to a business or an operator, cached briefly."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.invoice.domain.errors import PermissionDenied, Unauthenticated
from services.invoice.service_layer.unit_of_work import UnitOfWork

ROLE_BUSINESS = "business"
ROLE_OPERATOR = "operator"
TOKEN_PREFIX = "suo_"


@dataclass(frozen=True)
class Principal:
    """The caller behind a token."""

    role: str
    business_id: int | None = None
    business_public_id: str | None = None
    business_name: str | None = None

    def require_business(self) -> int:
        """The caller's business, for calls that act on a business's invoices."""
        if self.role != ROLE_BUSINESS or self.business_id is None:
            raise PermissionDenied("this call needs a business token")
        return self.business_id


def new_token() -> str:
    """A new bearer token: 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Authenticator:
    """Resolves tokens to principals, remembering each answer for a short time."""

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        ttl_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = unit_of_work
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def authenticate(self, token: str | None) -> Principal:
        if not token:
            raise Unauthenticated("missing bearer token")
        digest = hash_token(token)
        now = self._clock()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._uow() as uow:
            owner = await uow.businesses.owner_of(digest)
        if owner is None:
            self._cache.pop(digest, None)
            raise Unauthenticated("unknown or revoked token")
        principal = Principal(
            owner.role, owner.business_id, owner.business_public_id, owner.business_name
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl, principal)
        return principal
