"""The invoice routes of CONTRACT §2: each translates one REST call into one gRPC call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from suoops.invoice.v1 import invoice_pb2

from gateway import translate
from gateway.auth import BearerMetadata, Metadata
from gateway.client import InvoiceClient
from gateway.error_mapping import GatewayRoute
from gateway.errors import FailedPrecondition
from gateway.responses import error_responses, json_response
from gateway.schemas import Invoice, InvoiceList, InvoiceStatusWord, PdfStatus, PdfStatusWord

router = APIRouter(
    route_class=GatewayRoute,
    tags=["invoices"],
    responses=error_responses(401, 422, 503, 500),
)

# Create reads its body, query and header by hand, so FastAPI is only told their schemas:
# the body for exact decimals, the others because FastAPI's per-request parameter handling
# costs about 0.1 ms, a fifth of the gateway's time on its busiest route.
CREATE_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "async_pdf",
            "in": "query",
            "required": False,
            "schema": {"type": "boolean", "default": True},
            "description": "Render the PDF in the background (default) or before answering; "
            "`async_pdf` in the body wins.",
        },
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "The same key and body replay the first answer for at least 24 h.",
        },
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CreateInvoiceRequest"}}
        },
    },
}
_CREATED = {
    "description": "Created (or replayed: then `Idempotent-Replayed: true`).",
    "headers": {
        "Location": {"schema": {"type": "string"}, "description": "/invoices/{invoice_id}"},
        "Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}},
    },
}

InvoiceId = Annotated[str, Path(description="The invoice number, `INV-...`.")]


def _client(request: Request) -> InvoiceClient:
    client: InvoiceClient = request.app.state.invoice_client
    return client


@router.post(
    "/invoices/",
    status_code=201,
    response_model=Invoice,
    responses={201: _CREATED, **error_responses(400, 409, 413, 429)},
    openapi_extra=CREATE_OPENAPI,
    operation_id="create_invoice_trailing_slash",
    summary="Create Invoice (same as POST /invoices)",
)
@router.post(
    "/invoices",
    status_code=201,
    response_model=Invoice,
    responses={201: _CREATED, **error_responses(400, 409, 413, 429)},
    openapi_extra=CREATE_OPENAPI,
    operation_id="create_invoice",
)
async def create_invoice(request: Request, metadata: BearerMetadata) -> Response:
    """Create an invoice; `async_pdf` may be given in the query or the body (the body wins)."""
    async_pdf = translate.optional_bool(request.query_params.get("async_pdf"), "async_pdf")
    payload = translate.parse_json_object(await request.body())
    grpc_request = translate.create_request(
        payload, async_pdf=async_pdf, idempotency_key=request.headers.get("idempotency-key")
    )
    client = _client(request)
    reply = await client.invoices.CreateInvoice(
        grpc_request, timeout=client.timeout, metadata=metadata
    )
    headers = {"Location": f"/invoices/{reply.invoice.invoice_id}"}
    if reply.idempotent_replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(translate.invoice_json(reply.invoice), 201, headers)


@router.get("/invoices/{invoice_id}", response_model=Invoice, responses=error_responses(404))
async def get_invoice(
    request: Request, invoice_id: InvoiceId, metadata: BearerMetadata
) -> Response:
    """One invoice of the caller's business."""
    client = _client(request)
    reply = await client.invoices.GetInvoice(
        invoice_pb2.GetInvoiceRequest(invoice_id=invoice_id),
        timeout=client.timeout,
        metadata=metadata,
    )
    return json_response(translate.invoice_json(reply.invoice))


@router.get("/invoices", response_model=InvoiceList)
async def list_invoices(
    request: Request,
    metadata: BearerMetadata,
    page_size: Annotated[int, Query(ge=1, le=200, description="1 to 200.")] = 50,
    page_token: Annotated[str, Query(description="`next_page_token` of the last page.")] = "",
    status: Annotated[InvoiceStatusWord | None, Query(description="Payment status.")] = None,
    pdf_status: Annotated[PdfStatusWord | None, Query(description="PDF status.")] = None,
) -> Response:
    """The caller's invoices, newest first, a page at a time."""
    client = _client(request)
    reply = await client.invoices.ListInvoices(
        translate.list_request(
            page_size=page_size, page_token=page_token, status=status, pdf_status=pdf_status
        ),
        timeout=client.timeout,
        metadata=metadata,
    )
    return json_response(translate.invoice_list_json(reply))


async def _pdf_status(
    request: Request, invoice_id: str, metadata: Metadata
) -> invoice_pb2.PdfStatusInfo:
    client = _client(request)
    reply = await client.invoices.GetPdfStatus(
        invoice_pb2.GetPdfStatusRequest(invoice_id=invoice_id),
        timeout=client.timeout,
        metadata=metadata,
    )
    return reply.pdf


@router.get(
    "/invoices/{invoice_id}/pdf_status", response_model=PdfStatus, responses=error_responses(404)
)
async def get_pdf_status(
    request: Request, invoice_id: InvoiceId, metadata: BearerMetadata
) -> Response:
    """Where the invoice's PDF is: the polling endpoint."""
    pdf = await _pdf_status(request, invoice_id, metadata)
    return json_response(translate.pdf_status_json(pdf))


@router.get(
    "/invoices/{invoice_id}/pdf",
    status_code=302,
    response_class=RedirectResponse,
    responses={
        302: {
            "description": "Redirect to the PDF (a presigned URL that expires).",
            "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
        },
        **error_responses(404, 409),
    },
)
async def get_pdf(request: Request, invoice_id: InvoiceId, metadata: BearerMetadata) -> Response:
    """Redirect to the PDF once it is ready; 409 until then."""
    pdf = await _pdf_status(request, invoice_id, metadata)
    if pdf.pdf_status != invoice_pb2.PDF_STATUS_READY or not pdf.pdf_url:
        state = translate.PDF_STATUS.get(pdf.pdf_status, "unknown")
        raise FailedPrecondition(f"the PDF is not ready (pdf_status: {state})")
    return RedirectResponse(pdf.pdf_url, status_code=302)


@router.post(
    "/invoices/{invoice_id}/pdf/regenerate",
    status_code=202,
    response_model=PdfStatus,
    responses=error_responses(404, 409, 429),
)
async def regenerate_pdf(
    request: Request, invoice_id: InvoiceId, metadata: BearerMetadata
) -> Response:
    """Render the PDF again (after a failure or a template change)."""
    client = _client(request)
    reply = await client.invoices.RegeneratePdf(
        invoice_pb2.RegeneratePdfRequest(invoice_id=invoice_id),
        timeout=client.timeout,
        metadata=metadata,
    )
    return json_response(translate.pdf_status_json(reply.pdf), 202)
