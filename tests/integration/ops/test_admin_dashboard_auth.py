"""The dashboard's data path on real PostgreSQL and Redis: OperationsService over gRPC, and the
gateway's /admin routes in front of it (operator session cookie, 401/403, CSRF header)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass

import dramatiq
import grpc
import httpx
import psycopg
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc, operations_pb2, operations_pb2_grpc
from suoops.renderer.v1 import renderer_pb2

from gateway.app import create_app
from gateway.routes.admin import COOKIE
from services.common import render_records
from services.common.queues import PDF_GENERATION, RENDER_INVOICE_ACTOR
from services.common.settings import Settings
from services.invoice.bootstrap import InvoiceApp, build_app
from services.invoice.entrypoints.server import create_server
from services.invoice.service_layer import businesses
from tests.conftest import Tenant, make_settings, new_business
from tests.support.processes import free_port

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
CSRF = {"X-Requested-With": "suoops-dashboard"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def ops_app(database_url: str, redis_url: str) -> AsyncIterator[InvoiceApp]:
    app = build_app(
        make_settings(DATABASE_URL=database_url, REDIS_URL=redis_url, INTERNAL_TOKEN="internal")
    )
    yield app
    await app.close()


@dataclass
class Service:
    address: str
    operator: str
    business: Tenant


@pytest.fixture
async def service(ops_app: InvoiceApp, redis_client: redis.Redis) -> AsyncIterator[Service]:
    server, port = await create_server(ops_app, "127.0.0.1:0")
    await server.start()
    operator = await businesses.create_operator(ops_app.unit_of_work(), "Night shift")
    business = await new_business(ops_app, "Dashboard Test Shop")
    yield Service(f"127.0.0.1:{port}", operator, business)
    await server.stop(None)


@pytest.fixture
async def gateway(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app in-process (lifespan running), in front of the real invoice service."""
    app = create_app(Settings(invoice_grpc_addr=service.address, gateway_grpc_timeout_seconds=5))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as http,
    ):
        yield http


def session(token: str) -> dict[str, str]:
    """The header a browser sends with the dashboard's session cookie."""
    return {"Cookie": f"{COOKIE}={token}"}


def auth(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


async def failed_invoice(service: Service, database_url: str, client: redis.Redis) -> str:
    """An invoice whose render died: failed in the database, a dead letter and an error note."""
    async with grpc.aio.insecure_channel(service.address) as channel:
        created = await invoice_pb2_grpc.InvoiceServiceStub(channel).CreateInvoice(
            pb.CreateInvoiceRequest(customer_name="Bisi Adé", amount="100"),
            metadata=auth(service.business.token),
            timeout=10,
        )
    invoice_id = str(created.invoice.invoice_id)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE invoices SET pdf_status = 'failed', pdf_error = 'S3 said 503'"
            " WHERE invoice_id = %s",
            (invoice_id,),
        )
    broker = RedisBroker(client=client)
    dramatiq.actor(broker=broker, actor_name=RENDER_INVOICE_ACTOR, queue_name=PDF_GENERATION.name)(
        lambda encoded: None
    )
    request = renderer_pb2.RenderInvoiceRequest(generation=1)
    request.invoice.invoice_id = invoice_id
    broker.get_actor(RENDER_INVOICE_ACTOR).send(
        base64.b64encode(request.SerializeToString()).decode()
    )
    consumer = broker.consume(PDF_GENERATION.name, prefetch=1, timeout=100)
    message = next(consumer)
    assert message is not None
    consumer.nack(message)
    consumer.close()
    render_records.record_error(client, invoice_id, "S3 said 503", 1)
    return invoice_id


def pdf_state(database_url: str, invoice_id: str) -> tuple[str, int]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT pdf_status, pdf_generation FROM invoices WHERE invoice_id = %s", (invoice_id,)
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


async def test_operations_service_refuses_business_and_unknown_tokens(service: Service) -> None:
    async with grpc.aio.insecure_channel(service.address) as channel:
        stub = operations_pb2_grpc.OperationsServiceStub(channel)
        calls = [
            (service.business.token, grpc.StatusCode.PERMISSION_DENIED),
            ("suo_not-a-real-token", grpc.StatusCode.UNAUTHENTICATED),
        ]
        for token, code in calls:
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await stub.GetDashboard(
                    operations_pb2.GetDashboardRequest(), metadata=auth(token), timeout=5
                )
            assert denied.value.code() == code
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await stub.RetryRenders(
                    operations_pb2.RetryRendersRequest(invoice_ids=["INV-1"]),
                    metadata=auth(token),
                    timeout=5,
                )
            assert denied.value.code() == code


async def test_operator_sees_the_dead_render_and_retry_requeues_it_and_drops_the_letter(
    service: Service, database_url: str, redis_client: redis.Redis
) -> None:
    invoice_id = await failed_invoice(service, database_url, redis_client)
    async with grpc.aio.insecure_channel(service.address) as channel:
        stub = operations_pb2_grpc.OperationsServiceStub(channel)
        board = await stub.GetDashboard(
            operations_pb2.GetDashboardRequest(), metadata=auth(service.operator), timeout=5
        )
        assert [(f.invoice_id, f.error, f.attempts) for f in board.failed_jobs] == [
            (invoice_id, "S3 said 503", 1)
        ]
        depth = {q.queue: (q.ready, q.delayed, q.dead) for q in board.queues}
        assert depth[PDF_GENERATION.name] == (0, 0, 1)
        assert len(board.renders_per_minute) == 60
        reply = await stub.RetryRenders(
            operations_pb2.RetryRendersRequest(invoice_ids=[invoice_id, "INV-NOPE"]),
            metadata=auth(service.operator),
            timeout=10,
        )
        assert (list(reply.requeued), list(reply.skipped)) == ([invoice_id], ["INV-NOPE"])
        assert reply.dead_letters_removed == 1
        after = await stub.GetDashboard(
            operations_pb2.GetDashboardRequest(), metadata=auth(service.operator), timeout=5
        )
    assert list(after.failed_jobs) == []
    assert pdf_state(database_url, invoice_id) == ("pending", 2)


async def test_operator_token_in_the_query_sets_a_strict_httponly_cookie_and_redirects(
    gateway: httpx.AsyncClient, service: Service
) -> None:
    first = await gateway.get("/admin", params={"token": service.operator})
    assert first.status_code == 303
    assert first.headers["location"] == "/admin"
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={service.operator};")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/admin"} <= flags
    assert "secure" not in flags  # plain http here
    assert not any(f.startswith(("max-age", "expires")) for f in flags)  # a session cookie

    page = await gateway.get("/admin", headers=session(service.operator))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "SuoOps operations" in page.text
    nonce = page.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_the_cookie_is_secure_when_the_page_is_served_over_https(service: Service) -> None:
    app = create_app(Settings(invoice_grpc_addr=service.address, gateway_grpc_timeout_seconds=5))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="https://gateway") as http,
    ):
        first = await http.get("/admin", params={"token": service.operator})
    assert first.status_code == 303
    assert "secure" in {p.strip().lower() for p in first.headers["set-cookie"].split(";")}


async def test_business_token_gets_403_and_unknown_or_missing_tokens_get_401_without_a_cookie(
    gateway: httpx.AsyncClient, service: Service
) -> None:
    business = await gateway.get("/admin", params={"token": service.business.token})
    assert business.status_code == 403
    assert "operator token" in business.text
    unknown = await gateway.get("/admin", params={"token": "suo_made-up"})
    assert unknown.status_code == 401
    malformed = await gateway.get("/admin", params={"token": "two words"})
    assert malformed.status_code == 401
    for answer in (business, unknown, malformed):
        assert f"{COOKIE}={service.business.token}" not in answer.headers.get("set-cookie", "")
        assert "SuoOps operations" not in answer.text
    assert (await gateway.get("/admin")).status_code == 401
    by_cookie = await gateway.get("/admin", headers=session(service.business.token))
    assert by_cookie.status_code == 403


async def test_dashboard_json_needs_an_operator_session(
    gateway: httpx.AsyncClient, service: Service
) -> None:
    missing = await gateway.get("/admin/api/dashboard")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthenticated"
    business = await gateway.get("/admin/api/dashboard", headers=session(service.business.token))
    assert business.status_code == 403
    assert business.json()["error"]["code"] == "permission_denied"
    ok = await gateway.get("/admin/api/dashboard", headers=session(service.operator))
    assert ok.status_code == 200
    body = ok.json()
    assert len(body["renders_per_minute"]) == 60
    assert {q["queue"] for q in body["queues"]} >= {"pdf_generation", "default"}


async def test_retry_needs_the_csrf_header_and_a_json_body_before_it_changes_anything(
    gateway: httpx.AsyncClient, service: Service, database_url: str, redis_client: redis.Redis
) -> None:
    invoice_id = await failed_invoice(service, database_url, redis_client)
    operator = session(service.operator)
    body = {"invoice_ids": [invoice_id]}

    no_header = await gateway.post("/admin/api/retry", json=body, headers=operator)
    assert no_header.status_code == 403
    assert "X-Requested-With" in no_header.json()["error"]["message"]
    as_form = await gateway.post(
        "/admin/api/retry", data={"invoice_ids": invoice_id}, headers=operator | CSRF
    )
    assert as_form.status_code == 422
    no_session = await gateway.post("/admin/api/retry", json=body, headers=CSRF)
    assert no_session.status_code == 401
    as_business = await gateway.post(
        "/admin/api/retry", json=body, headers=session(service.business.token) | CSRF
    )
    assert as_business.status_code == 403
    assert pdf_state(database_url, invoice_id) == ("failed", 1)

    bad_ids = await gateway.post(
        "/admin/api/retry", json={"invoice_ids": []}, headers=operator | CSRF
    )
    assert bad_ids.status_code == 422
    assert bad_ids.json()["error"]["fields"][0]["field"] == "invoice_ids"

    done = await gateway.post("/admin/api/retry", json=body, headers=operator | CSRF)
    assert done.status_code == 200
    assert done.json() == {"requeued": [invoice_id], "skipped": [], "dead_letters_removed": 1}
    assert pdf_state(database_url, invoice_id) == ("pending", 2)


async def test_admin_routes_stay_out_of_the_public_api_document(
    gateway: httpx.AsyncClient,
) -> None:
    paths = (await gateway.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/admin")]


async def test_redis_being_away_answers_unavailable_and_the_page_sets_no_cookie(
    database_url: str,
) -> None:
    away = f"redis://127.0.0.1:{free_port()}/0"
    app = build_app(make_settings(DATABASE_URL=database_url, REDIS_URL=away))
    server, port = await create_server(app, "127.0.0.1:0")
    await server.start()
    try:
        operator = await businesses.create_operator(app.unit_of_work(), "Night shift")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = operations_pb2_grpc.OperationsServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as board:
                await stub.GetDashboard(
                    operations_pb2.GetDashboardRequest(), metadata=auth(operator), timeout=10
                )
            with pytest.raises(grpc.aio.AioRpcError) as retry:
                await stub.RetryRenders(
                    operations_pb2.RetryRendersRequest(invoice_ids=["INV-1"]),
                    metadata=auth(operator),
                    timeout=10,
                )
        assert board.value.code() == retry.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "127.0.0.1" not in (board.value.details() or "")  # no addresses in errors
        gateway_app = create_app(
            Settings(invoice_grpc_addr=f"127.0.0.1:{port}", gateway_grpc_timeout_seconds=5)
        )
        transport = httpx.ASGITransport(app=gateway_app)
        async with (
            gateway_app.router.lifespan_context(gateway_app),
            httpx.AsyncClient(transport=transport, base_url="http://gateway") as http,
        ):
            page = await http.get("/admin", params={"token": operator})
        assert page.status_code == 503
        assert "set-cookie" not in page.headers
    finally:
        await server.stop(None)
        await app.close()
