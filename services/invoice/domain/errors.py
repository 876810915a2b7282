"""The invoice domain's errors: one shallow hierarchy under DomainError."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the invoice service reports to its callers."""


@dataclass(frozen=True)
class FieldError:
    """One invalid field, named the way the caller wrote it (`lines[2].quantity`)."""

    field: str
    message: str


class InvalidInput(DomainError):
    """The request breaks one or more rules; every broken field is listed."""

    def __init__(self, fields: list[FieldError]) -> None:
        self.fields = fields
        names = ", ".join(f.field for f in fields)
        super().__init__(f"invalid fields: {names}")


class NotFound(DomainError):
    """No such thing, or not the caller's to see."""


class AlreadyExists(DomainError):
    """A conflicting record exists (e.g. an idempotency key reused for another request)."""


class FailedPrecondition(DomainError):
    """The thing is not in a state that allows this request."""


class Unauthenticated(DomainError):
    """The caller's credential is missing or unknown."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class Unavailable(DomainError):
    """A dependency is down; the caller may retry."""


class ResourceExhausted(DomainError):
    """Too much work is queued; the caller should slow down."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message)
