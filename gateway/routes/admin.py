"""The monitoring dashboard: `GET /admin` (an HTML page) and the JSON calls it makes.

An operator opens `/admin?token=<operator token>` once: the token is checked with the
invoice service, kept in an HttpOnly, SameSite=Strict session cookie, and the browser is
sent on to `/admin` so the token leaves the address bar and the history. The page's own
calls carry the cookie; the one that changes something (retry) also needs a header a
cross-site form cannot send, and a JSON body. Kept out of the public OpenAPI document.
"""

from __future__ import annotations

import html
import secrets
from functools import cache
from importlib import resources
from typing import Any

import grpc
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from suoops.invoice.v1 import operations_pb2

from gateway import translate
from gateway.auth import Metadata, bearer_token
from gateway.client import InvoiceClient
from gateway.error_mapping import GatewayRoute, to_api_error
from gateway.errors import ApiError, InvalidArgument, PermissionDenied, Unauthenticated
from gateway.responses import json_response

router = APIRouter(route_class=GatewayRoute, include_in_schema=False)

COOKIE = "suoops_admin"
COOKIE_PATH = "/admin"
CSRF_HEADER = "X-Requested-With"
MAX_RETRY_IDS = 1000
MAX_INVOICE_ID_LENGTH = 64
NONCE_PLACEHOLDER = "__CSP_NONCE__"
# The page loads nothing from elsewhere; its one script and style carry a per-answer nonce.
CSP = (
    "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@cache
def _page_template() -> str:
    return resources.files("gateway").joinpath("templates/admin.html").read_text("utf-8")


def _client(request: Request) -> InvoiceClient:
    client: InvoiceClient = request.app.state.invoice_client
    return client


def _metadata(token: str) -> Metadata:
    """gRPC metadata for a token; Unauthenticated if it cannot be one of ours."""
    return (("authorization", "Bearer " + bearer_token("Bearer " + token)),)


def _cookie_metadata(request: Request) -> Metadata:
    token = request.cookies.get(COOKIE)
    if not token:
        raise Unauthenticated("no dashboard session: open /admin?token=<operator token>")
    return _metadata(token)


async def _dashboard(request: Request, metadata: Metadata) -> operations_pb2.GetDashboardResponse:
    client = _client(request)
    reply: operations_pb2.GetDashboardResponse = await client.operations.GetDashboard(
        operations_pb2.GetDashboardRequest(), metadata=metadata, timeout=client.timeout
    )
    return reply


def _message_page(error: ApiError) -> Response:
    """An error as a small HTML page (the page route answers browsers, not API clients)."""
    hint = {
        401: "Open <code>/admin?token=&lt;operator token&gt;</code> with a token from "
        "<code>suoops create-operator NAME</code>.",
        403: "This token belongs to a business; the dashboard needs an operator token.",
    }.get(error.status, "Try again in a moment.")
    body = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>SuoOps dashboard: {error.status}</title></head><body>"
        f"<h1>{error.status}: {html.escape(error.message)}</h1><p>{hint}</p></body></html>"
    )
    response = Response(body, status_code=error.status, media_type="text/html")
    response.headers.update(PRIVATE_HEADERS)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    if error.status == 401:
        response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


def _page() -> Response:
    nonce = secrets.token_urlsafe(16)
    response = Response(_page_template().replace(NONCE_PLACEHOLDER, nonce), media_type="text/html")
    response.headers.update(PRIVATE_HEADERS)
    response.headers["Content-Security-Policy"] = CSP.format(nonce=nonce)
    return response


@router.get("/admin")
async def admin_page(request: Request) -> Response:
    """The dashboard page; `?token=` checks an operator token and starts a session with it."""
    token = request.query_params.get("token")
    try:
        if token is not None:
            metadata = _metadata(token)
            await _dashboard(request, metadata)
            response = RedirectResponse("/admin", status_code=303)
            response.headers.update(PRIVATE_HEADERS)
            response.set_cookie(
                COOKIE,
                token,
                path=COOKIE_PATH,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
            return response
        await _dashboard(request, _cookie_metadata(request))
    except (ApiError, grpc.RpcError) as exc:
        return _message_page(to_api_error(exc))
    return _page()


def dashboard_json(reply: operations_pb2.GetDashboardResponse) -> dict[str, Any]:
    """The dashboard message as the JSON the page reads."""
    return {
        "queues": [
            {"queue": q.queue, "ready": q.ready, "delayed": q.delayed, "dead": q.dead}
            for q in reply.queues
        ],
        "workers_alive": reply.workers_alive,
        "active_jobs": [
            {
                "queue": j.queue,
                "task": j.task,
                "invoice_id": j.invoice_id,
                "worker_id": j.worker_id,
                "attempt": j.attempt,
                "queued_at": translate.timestamp_text(j, "queued_at"),
            }
            for j in reply.active_jobs
        ],
        "failed_jobs": [
            {
                "queue": j.queue,
                "task": j.task,
                "invoice_id": j.invoice_id,
                "error": j.error,
                "attempts": j.attempts,
                "failed_at": translate.timestamp_text(j, "failed_at"),
            }
            for j in reply.failed_jobs
        ],
        "renders_per_minute": [
            {
                "minute": translate.timestamp_text(m, "minute"),
                "ready": m.ready,
                "failed": m.failed,
                "p95_render_ms": m.p95_render_ms,
            }
            for m in reply.renders_per_minute
        ],
        "renders_last_hour": {
            "ready": reply.renders_ready_last_hour,
            "failed": reply.renders_failed_last_hour,
            "failure_rate": reply.failure_rate_last_hour,
        },
        "generated_at": translate.timestamp_text(reply, "generated_at"),
    }


def _json(data: Any) -> Response:
    response = json_response(data)
    response.headers.update(PRIVATE_HEADERS)
    return response


@router.get("/admin/api/dashboard")
async def admin_dashboard(request: Request) -> Response:
    """The dashboard's data, for the page (session cookie)."""
    return _json(dashboard_json(await _dashboard(request, _cookie_metadata(request))))


def retry_ids(payload: dict[str, Any]) -> list[str]:
    """The `invoice_ids` of a retry body: 1 to 1000 invoice numbers."""
    ids = payload.get("invoice_ids")
    if (
        not isinstance(ids, list)
        or not 1 <= len(ids) <= MAX_RETRY_IDS
        or not all(isinstance(i, str) and 0 < len(i) <= MAX_INVOICE_ID_LENGTH for i in ids)
    ):
        message = f"must be a list of 1 to {MAX_RETRY_IDS} invoice numbers"
        raise InvalidArgument("the request has invalid fields", fields=[("invoice_ids", message)])
    return ids


@router.post("/admin/api/retry")
async def admin_retry(request: Request) -> Response:
    """Render failed invoices again (session cookie, plus a header no cross-site form sends)."""
    metadata = _cookie_metadata(request)
    if not request.headers.get(CSRF_HEADER):
        raise PermissionDenied(f"missing {CSRF_HEADER} header")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise InvalidArgument("the body must be JSON (Content-Type: application/json)")
    invoice_ids = retry_ids(translate.parse_json_object(await request.body()))
    client = _client(request)
    reply = await client.operations.RetryRenders(
        operations_pb2.RetryRendersRequest(invoice_ids=invoice_ids),
        metadata=metadata,
        timeout=client.timeout,
    )
    return _json(
        {
            "requeued": list(reply.requeued),
            "skipped": list(reply.skipped),
            "dead_letters_removed": reply.dead_letters_removed,
        }
    )
