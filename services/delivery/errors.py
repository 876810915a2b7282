"""The one error hierarchy of the delivery clients: temporary (retry) or permanent (give up)."""

from __future__ import annotations


class DeliveryError(Exception):
    """A delivery did not happen; str() is a one-line text fit to show the user."""

    def __init__(self, message: str) -> None:
        # Server and API texts arrive with line breaks; the user sees one line.
        super().__init__(" ".join(str(message).split()))


class TemporaryDeliveryError(DeliveryError):
    """The delivery may succeed later: retry, after ``retry_after`` seconds when given."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The delivery will fail again the same way: do not retry."""


class PrivateAddressError(PermanentDeliveryError):
    """The destination resolves to a private, loopback or otherwise internal address."""
