"""The invoice API through real `suoops serve invoice` and `suoops serve gateway` processes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import httpx
import pytest
from suoops.invoice.v1 import invoice_pb2 as pb

from tests.conftest import count_rows
from tests.e2e.conftest import Stack, new_token
from tests.invoice_cases import BAD_REQUESTS, GOOD, LINE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(
    database_url: str, redis_url: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """One invoice service and one gateway for the whole module."""
    from tests.e2e.conftest import stack_env
    from tests.support.processes import ProcessGroup

    stack = Stack(
        ProcessGroup(tmp_path_factory.mktemp("api")),
        stack_env(database_url, redis_url, s3_endpoint),
    )
    stack.token = new_token(database_url, "Wire Shop")
    stack.start("invoice")
    stack.start("gateway")
    yield stack
    stack.group.stop_all()


def client(stack: Stack, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token or stack.token}"}
    return httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=30)


def test_create_and_get_over_rest(api: Stack) -> None:
    with client(api) as http:
        created = http.post("/invoices/", json=GOOD)
        assert created.status_code == 201
        body = created.json()
        assert body["invoice_id"].startswith("INV-")
        assert created.headers["location"] == f"/invoices/{body['invoice_id']}"
        assert body["status"] == "pending" and body["pdf_status"] == "pending"
        assert body["pdf_url"] is None and body["amount"] == "50000.00"
        assert body["currency"] == "NGN"
        fetched = http.get(f"/invoices/{body['invoice_id']}")
        assert fetched.status_code == 200 and fetched.json() == body


def test_lines_tax_and_totals_are_exact_decimal_strings(api: Stack) -> None:
    payload = {
        "customer_name": "王小明",
        "lines": [{"description": "Silk", "quantity": 1.125, "unit_price": "19999.99"}],
        "tax_rate": 7.5,
        "amount": "24187.49",
    }
    with client(api) as http:
        reply = http.post("/invoices", json=payload)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["lines"][0]["amount"] == "22499.99"
    assert (body["subtotal"], body["tax"], body["amount"]) == ("22499.99", "1687.50", "24187.49")


@pytest.mark.parametrize(
    ("body", "field"), [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
def test_each_broken_rule_is_422_naming_the_field_and_writes_nothing(
    api: Stack, database_url: str, body: dict[str, Any], field: str
) -> None:
    before = count_rows(database_url, "invoices")
    with client(api) as http:
        reply = http.post("/invoices/", json=body)
    assert reply.status_code == 422, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid_argument"
    assert field in [f["field"] for f in error["fields"]]
    assert count_rows(database_url, "invoices") == before


def test_malformed_json_is_400(api: Stack, database_url: str) -> None:
    before = count_rows(database_url, "invoices")
    with client(api) as http:
        reply = http.post(
            "/invoices/",
            content=b'{"customer_name": "Ada",',
            headers={"Content-Type": "application/json"},
        )
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "invalid_argument"
    assert count_rows(database_url, "invoices") == before


def test_body_over_one_mebibyte_is_413(api: Stack, database_url: str) -> None:
    before = count_rows(database_url, "invoices")
    huge = json.dumps({**GOOD, "notes": "x" * (1536 * 1024)}).encode()
    with client(api) as http:
        reply = http.post("/invoices/", content=huge, headers={"Content-Type": "application/json"})
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == "payload_too_large"
    assert count_rows(database_url, "invoices") == before


def test_missing_or_unknown_token_is_401(api: Stack) -> None:
    with httpx.Client(base_url=api.gateway_url) as http:
        assert http.get("/invoices").status_code == 401
        unknown = http.get("/invoices", headers={"Authorization": "Bearer suo_unknown"})
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "unauthenticated"


def test_another_business_sees_404_and_never_lists_it(api: Stack, database_url: str) -> None:
    other = new_token(database_url, "Other Shop")
    with client(api) as mine, client(api, other) as theirs:
        invoice_id = mine.post("/invoices/", json=GOOD).json()["invoice_id"]
        for path in (f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/pdf_status"):
            reply = theirs.get(path)
            assert reply.status_code == 404
            assert reply.json()["error"]["code"] == "not_found"
        listed = theirs.get("/invoices", params={"page_size": 200}).json()["invoices"]
        assert invoice_id not in [i["invoice_id"] for i in listed]
        assert invoice_id in [i["invoice_id"] for i in mine.get("/invoices").json()["invoices"]]


def test_twenty_concurrent_posts_with_one_key_make_one_invoice(
    api: Stack, database_url: str
) -> None:
    token = new_token(database_url, "Racing Shop")
    body = {**GOOD, "lines": [LINE], "amount": None}

    def post(_: int) -> httpx.Response:
        with client(api, token) as http:
            return http.post("/invoices/", json=body, headers={"Idempotency-Key": "race-key"})

    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(post, range(20)))
    created = [r for r in replies if r.status_code == 201]
    assert created and all(r.status_code in (201, 409) for r in replies)
    assert len({r.json()["invoice_id"] for r in created}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in created) == len(created) - 1
    with client(api, token) as http:
        assert len(http.get("/invoices").json()["invoices"]) == 1


def test_same_key_with_another_body_is_409(api: Stack) -> None:
    with client(api) as http:
        first = http.post("/invoices/", json=GOOD, headers={"Idempotency-Key": "k-409"})
        again = http.post("/invoices/", json=GOOD, headers={"Idempotency-Key": "k-409"})
        other = http.post(
            "/invoices/", json={**GOOD, "amount": "1"}, headers={"Idempotency-Key": "k-409"}
        )
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["invoice_id"] == first.json()["invoice_id"]
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"


def test_listing_pages_to_an_empty_token(api: Stack, database_url: str) -> None:
    token = new_token(database_url, "Paging Shop")
    with client(api, token) as http:
        made = [http.post("/invoices/", json=GOOD).json()["invoice_id"] for _ in range(3)]
        first = http.get("/invoices", params={"page_size": 2}).json()
        second = http.get(
            "/invoices", params={"page_size": 2, "page_token": first["next_page_token"]}
        )
    assert [i["invoice_id"] for i in first["invoices"]] == made[::-1][:2]
    assert [i["invoice_id"] for i in second.json()["invoices"]] == made[:1]
    assert second.json()["next_page_token"] == ""


def test_the_same_calls_work_over_grpc(api: Stack) -> None:
    with grpc.insecure_channel(api.invoice_addr) as channel:
        stub = api.stub(channel)
        created = stub.CreateInvoice(
            pb.CreateInvoiceRequest(customer_name="Ada", amount="50000"), metadata=api.metadata
        ).invoice
        got = stub.GetInvoice(
            pb.GetInvoiceRequest(invoice_id=created.invoice_id), metadata=api.metadata
        )
    assert got.invoice.invoice_id == created.invoice_id
    with client(api) as http:
        assert http.get(f"/invoices/{created.invoice_id}").json()["amount"] == "50000.00"


def test_health_readiness_docs_and_metrics(api: Stack) -> None:
    with httpx.Client(base_url=api.gateway_url) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/readyz").status_code == 200
        spec = http.get("/openapi.json").json()
        assert {"/invoices", "/invoices/{invoice_id}", "/invoices/{invoice_id}/pdf_status"} <= set(
            spec["paths"]
        )
        assert http.get("/docs").status_code == 200
        assert "gateway_http_requests_total" in http.get("/metrics").text


def test_readyz_is_503_when_the_invoice_service_is_gone(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(("invoice", "gateway"))
    with httpx.Client(base_url=stack.gateway_url) as http:
        assert http.get("/readyz").status_code == 200
        stack.group.stop("invoice")
        assert http.get("/readyz").status_code == 503
        down = http.get("/invoices", headers={"Authorization": f"Bearer {stack.token}"})
    assert down.status_code == 503 and down.json()["error"]["code"] == "unavailable"
