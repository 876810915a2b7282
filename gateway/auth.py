"""Bearer token extraction: the gateway checks the form, the invoice service the token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from gateway.errors import Unauthenticated

Metadata = tuple[tuple[str, str], ...]


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, or Unauthenticated."""
    if not authorization:
        raise Unauthenticated("missing Authorization: Bearer <token> header")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    # gRPC metadata values must be printable ASCII; anything else cannot be a token of ours.
    if (
        scheme.lower() != "bearer"
        or not token
        or " " in token
        or not token.isascii()
        or not token.isprintable()
    ):
        raise Unauthenticated("malformed Authorization header: expected Bearer <token>")
    return token


async def bearer_metadata(request: Request) -> Metadata:
    """The gRPC metadata that forwards the caller's token to the invoice service."""
    # async: FastAPI would run a plain function dependency in a thread pool.
    return (("authorization", "Bearer " + bearer_token(request.headers.get("authorization"))),)


# A dependency, so a missing token answers 401 before any parameter is judged.
BearerMetadata = Annotated[Metadata, Depends(bearer_metadata)]
