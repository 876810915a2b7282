"""The invoice routes against a fake InvoiceService over real gRPC."""

from __future__ import annotations

import json

import httpx
import pytest
from suoops.invoice.v1 import invoice_pb2

from tests.integration.gateway.gateway_fakes import AUTH, TOKEN, FakeInvoiceService

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

JSON = {**AUTH, "Content-Type": "application/json"}


async def create(http: httpx.AsyncClient, body: bytes | str, **kwargs: object) -> httpx.Response:
    """POST raw JSON text, so numbers stay exactly as written (httpx's json= would use floats)."""
    headers = {**JSON, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    content = body.encode() if isinstance(body, str) else body
    return await http.post("/invoices", content=content, headers=headers, **kwargs)  # type: ignore[arg-type]


async def test_create_answers_201_with_location_and_the_invoice_body(
    client: httpx.AsyncClient,
) -> None:
    response = await create(
        client,
        '{"customer_name": "Adéwálé", "amount": 50000, "customer_email": "a@example.com",'
        ' "deliver": ["email"], "notes": "thanks"}',
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/invoices/{body['invoice_id']}"
    assert "idempotent-replayed" not in response.headers
    assert set(body) == {
        "invoice_id", "customer_name", "customer_email", "customer_phone", "currency", "lines",
        "tax_rate", "subtotal", "tax", "amount", "status", "pdf_status", "pdf_url", "due_date",
        "notes", "deliver", "deliveries", "created_at", "updated_at",
    }  # fmt: skip
    assert body["invoice_id"].startswith("INV-")
    assert body["customer_name"] == "Adéwálé"
    assert body["amount"] == "50000"
    assert body["status"] == "pending"
    assert body["pdf_status"] == "pending"
    assert body["pdf_url"] is None
    assert body["customer_phone"] is None
    assert body["due_date"] is None
    assert body["notes"] == "thanks"
    assert body["deliver"] == ["email"]
    assert body["deliveries"] == [
        {"channel": "email", "status": "pending", "attempts": 0, "error": None, "sent_at": None}
    ]
    assert body["created_at"] == "2025-01-01T12:00:00Z"


async def test_trailing_slash_path_creates_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/invoices/", content=b'{"customer_name":"A","amount":1}', headers=JSON
    )
    assert response.status_code == 201


async def test_money_sent_as_a_json_number_reaches_grpc_as_the_exact_string(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    response = await create(
        client,
        '{"customer_name": "A", "amount": 999999999999999.99, "tax_rate": 7.5,'
        ' "lines": [{"description": "x", "quantity": 0.001, "unit_price": 1e2}]}',
    )
    assert response.status_code == 201
    sent = fake.requests[-1]
    assert sent.amount == "999999999999999.99"
    assert sent.tax_rate == "7.5"
    assert sent.lines[0].quantity == "0.001"
    assert sent.lines[0].unit_price == "100"
    assert response.json()["amount"] == "999999999999999.99"


async def test_money_given_as_strings_is_forwarded_untouched(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    await create(client, '{"customer_name": "A", "amount": "0012.50"}')
    assert fake.requests[-1].amount == "0012.50"


async def test_unset_optional_fields_stay_unset_in_the_grpc_request(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    await create(client, '{"customer_name": "A", "amount": 1, "customer_email": null}')
    sent = fake.requests[-1]
    for name in ("customer_email", "customer_phone", "currency", "tax_rate", "due_date", "notes"):
        assert not sent.HasField(name), name


@pytest.mark.parametrize(
    ("query", "body_field", "expected"),
    [
        ("", "", True),
        ("?async_pdf=false", "", False),
        ("?async_pdf=true", "", True),
        ("", ', "async_pdf": false', False),
        ("?async_pdf=true", ', "async_pdf": false', False),
        ("?async_pdf=false", ', "async_pdf": true', True),
    ],
)
async def test_async_pdf_comes_from_the_body_then_the_query_then_defaults_to_true(
    client: httpx.AsyncClient,
    fake: FakeInvoiceService,
    query: str,
    body_field: str,
    expected: bool,
) -> None:
    response = await client.post(
        f"/invoices{query}",
        content=f'{{"customer_name": "A", "amount": 1{body_field}}}'.encode(),
        headers=JSON,
    )
    assert response.status_code == 201
    assert fake.requests[-1].HasField("async_pdf")
    assert fake.requests[-1].async_pdf is expected


async def test_idempotency_key_is_forwarded_and_a_replay_is_flagged(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    headers = {"Idempotency-Key": "key-123"}
    first = await create(client, '{"customer_name": "A", "amount": 1}', headers=headers)
    second = await create(client, '{"customer_name": "A", "amount": 1}', headers=headers)
    assert fake.requests[0].idempotency_key == "key-123"
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()


async def test_the_bearer_token_is_forwarded_as_grpc_metadata(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    await create(client, '{"customer_name": "A", "amount": 1}')
    assert fake.metadata[-1]["authorization"] == f"Bearer {TOKEN}"


async def test_every_grpc_call_carries_a_deadline(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    await create(client, '{"customer_name": "A", "amount": 1}')
    await client.get("/invoices", headers=AUTH)
    # Without a deadline time_remaining() is None; with one it is about the configured 5 s.
    assert len(fake.deadlines) == 2
    assert all(d is not None and 0 < d < 6.0 for d in fake.deadlines)


async def test_get_returns_the_stored_invoice(client: httpx.AsyncClient) -> None:
    created = (await create(client, '{"customer_name": "A", "amount": 1}')).json()
    response = await client.get(f"/invoices/{created['invoice_id']}", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == created


async def test_list_forwards_paging_and_filters_and_returns_the_page(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    for _ in range(3):
        await create(client, '{"customer_name": "A", "amount": 1}')
    response = await client.get(
        "/invoices",
        params={"page_size": 2, "status": "pending", "pdf_status": "pending"},
        headers=AUTH,
    )
    assert response.status_code == 200
    body = response.json()
    assert [i["invoice_id"] for i in body["invoices"]] == ["INV-000003", "INV-000002"]
    assert body["next_page_token"] == "2"
    sent = fake.requests[-1]
    assert sent.page_size == 2
    assert sent.status == invoice_pb2.INVOICE_STATUS_PENDING
    assert sent.pdf_status == invoice_pb2.PDF_STATUS_PENDING
    last = await client.get("/invoices", params={"page_token": "2"}, headers=AUTH)
    assert fake.requests[-1].page_size == 50
    assert last.json()["next_page_token"] == ""
    assert len(last.json()["invoices"]) == 1


@pytest.mark.parametrize("page_size", ["0", "201", "-1", "ten"])
async def test_list_page_size_out_of_range_is_422_naming_page_size(
    client: httpx.AsyncClient, fake: FakeInvoiceService, page_size: str
) -> None:
    response = await client.get("/invoices", params={"page_size": page_size}, headers=AUTH)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_argument"
    assert [f["field"] for f in error["fields"]] == ["page_size"]
    assert fake.requests == []


async def test_list_unknown_status_filter_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/invoices", params={"pdf_status": "done"}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "pdf_status"


async def test_pdf_status_is_the_polling_body(client: httpx.AsyncClient) -> None:
    created = (await create(client, '{"customer_name": "A", "amount": 1}')).json()
    response = await client.get(f"/invoices/{created['invoice_id']}/pdf_status", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "invoice_id": created["invoice_id"],
        "pdf_status": "pending",
        "pdf_url": None,
        "attempts": 0,
        "error": None,
        "updated_at": "2025-01-01T12:00:00Z",
    }


async def test_pdf_redirects_302_once_ready(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    invoice_id = (await create(client, '{"customer_name": "A", "amount": 1}')).json()["invoice_id"]
    url = "https://s3.example.com/invoices/INV-000001.pdf?X-Amz-Signature=abc"
    fake.set_pdf(invoice_id, invoice_pb2.PDF_STATUS_READY, url)
    response = await client.get(f"/invoices/{invoice_id}/pdf", headers=AUTH)
    assert response.status_code == 302
    assert response.headers["location"] == url


@pytest.mark.parametrize(
    ("status", "word"),
    [
        (invoice_pb2.PDF_STATUS_PENDING, "pending"),
        (invoice_pb2.PDF_STATUS_RENDERING, "rendering"),
        (invoice_pb2.PDF_STATUS_FAILED, "failed"),
    ],
)
async def test_pdf_is_409_failed_precondition_while_not_ready(
    client: httpx.AsyncClient, fake: FakeInvoiceService, status: int, word: str
) -> None:
    invoice_id = (await create(client, '{"customer_name": "A", "amount": 1}')).json()["invoice_id"]
    fake.set_pdf(invoice_id, status, error="boom" if word == "failed" else "")
    response = await client.get(f"/invoices/{invoice_id}/pdf", headers=AUTH)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "failed_precondition"
    assert word in response.json()["error"]["message"]


async def test_regenerate_answers_202_with_the_pdf_status(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    invoice_id = (await create(client, '{"customer_name": "A", "amount": 1}')).json()["invoice_id"]
    fake.set_pdf(invoice_id, invoice_pb2.PDF_STATUS_FAILED, error="font missing")
    response = await client.post(f"/invoices/{invoice_id}/pdf/regenerate", headers=AUTH)
    assert response.status_code == 202
    assert response.json()["pdf_status"] == "pending"
    assert response.json()["error"] is None
    assert isinstance(fake.requests[-1], invoice_pb2.RegeneratePdfRequest)


async def test_responses_are_json_with_money_as_strings(client: httpx.AsyncClient) -> None:
    response = await create(
        client,
        '{"customer_name": "A", "lines": [{"description": "x", "quantity": 2,'
        ' "unit_price": "2500.50"}], "amount": "5001.00"}',
    )
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    assert body["lines"][0] == {
        "description": "x",
        "quantity": "2",
        "unit_price": "2500.50",
        "amount": "5001.00",
    }
    assert isinstance(body["amount"], str)
