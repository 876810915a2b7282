"""The OpenAPI document: FastAPI's, plus the bearer scheme and the hand-parsed request bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from gateway.schemas import CreateInvoiceRequest, ErrorResponse

# Bodies the routes parse themselves, so FastAPI does not see them: added by hand.
REQUEST_MODELS: tuple[type[BaseModel], ...] = (CreateInvoiceRequest, ErrorResponse)
SECURITY_SCHEME = "bearerAuth"
DESCRIPTION = (
    "SuoOps invoices over REST. Every call but the probes, `/metrics` and these docs needs "
    "`Authorization: Bearer <token>`. Money is exact: send JSON numbers or decimal strings, "
    'read decimal strings ("50000.00"). Every error is '
    '`{"error": {"code", "message", "fields"?}}`.'
)


def _schemas_of(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    _, top = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = top.get("$defs", {})
    return schemas


def openapi_builder(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """A replacement for `app.openapi` that builds the document once."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=DESCRIPTION, routes=app.routes
            )
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {}).update(_schemas_of(REQUEST_MODELS))
            components["securitySchemes"] = {SECURITY_SCHEME: {"type": "http", "scheme": "bearer"}}
            # Secure by default; the public routes opt out with `security: []`.
            schema["security"] = [{SECURITY_SCHEME: []}]
            app.openapi_schema = schema
        return app.openapi_schema

    return build
