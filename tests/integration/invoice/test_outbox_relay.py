"""The outbox relay sends each wanted render job once, built from the invoice as saved."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
import redis
from suoops.renderer.v1 import renderer_pb2

from services.common.broker import create_broker
from services.common.queues import PDF_GENERATION, ready_key
from services.common.settings import Settings
from services.invoice.adapters.job_publisher import DramatiqPublisher
from services.invoice.adapters.outbox_relay import OutboxRelay
from services.invoice.adapters.pg_pool import LazyPool
from services.invoice.bootstrap import InvoiceApp, build_app
from services.invoice.domain.model import RenderedPdf
from services.invoice.domain.rules import InvoiceDraft, LineDraft
from services.invoice.entrypoints.render_jobs import expand_jobs
from services.invoice.service_layer import invoices, renders
from tests.conftest import (
    Tenant,
    create_database,
    drop_database,
    free_port,
    make_settings,
    new_business,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def database_url() -> Iterator[str]:
    """A database of its own: the relay takes every due row, whichever test wrote it."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(
        DATABASE_URL=database_url, REDIS_URL=redis_url, INTERNAL_TOKEN="test-internal-token"
    )


@pytest.fixture
async def app(settings: Settings, redis_client: redis.Redis) -> AsyncIterator[InvoiceApp]:
    built = build_app(settings)
    yield built
    await built.close()


@pytest.fixture
async def shop(app: InvoiceApp) -> Tenant:
    return await new_business(app, "Ọlá's Prints")


def relay_of(app: InvoiceApp) -> OutboxRelay:
    assert app.relay is not None
    return app.relay


def render_requests(redis_client: redis.Redis) -> list[renderer_pb2.RenderInvoiceRequest]:
    """The render jobs waiting in Redis, oldest first, as the worker will decode them."""
    ids = redis_client.lrange(ready_key(PDF_GENERATION.name), 0, -1)
    messages = redis_client.hmget(f"{ready_key(PDF_GENERATION.name)}.msgs", ids) if ids else []
    out = []
    for raw in messages:
        assert raw is not None
        (encoded,) = json.loads(raw)["args"]
        out.append(renderer_pb2.RenderInvoiceRequest.FromString(base64.b64decode(encoded)))
    return out


def outbox_rows(database_url: str, invoice_id: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE payload->>'invoice_id' = %s", (invoice_id,)
        ).fetchone()
    return int(row[0]) if row else 0


async def create(app: InvoiceApp, shop: Tenant, name: str = "Adébáyọ̀ Stores") -> str:
    created = await invoices.create_invoice(
        app.autocommit_unit_of_work(),
        app.creator,
        shop.business_id,
        InvoiceDraft(
            customer_name=name,
            customer_email="ade@example.com",
            currency="NGN",
            lines=[
                LineDraft("Ankara fabric, 6 yards", "2", "4500.00"),
                LineDraft("Tailoring", "1", "12000.50"),
            ],
            tax_rate="7.5",
            notes="Thank you",
        ),
    )
    return created.invoice.invoice_id


async def test_a_new_invoice_goes_out_as_one_render_job_carrying_the_invoice_as_saved(
    app: InvoiceApp, shop: Tenant, redis_client: redis.Redis, database_url: str
) -> None:
    invoice_id = await create(app, shop)

    assert await relay_of(app).publish_due() == 1

    (request,) = render_requests(redis_client)
    assert request.generation == 1
    invoice = request.invoice
    assert invoice.invoice_id == invoice_id
    assert invoice.customer_name == "Adébáyọ̀ Stores"
    assert invoice.customer_email == "ade@example.com"
    assert [(line.description, line.quantity, line.unit_price) for line in invoice.lines] == [
        ("Ankara fabric, 6 yards", "2", "4500.00"),
        ("Tailoring", "1", "12000.50"),
    ]
    assert (invoice.subtotal, invoice.tax, invoice.amount) == ("21000.50", "1575.04", "22575.54")
    assert invoice.notes == "Thank you"
    assert (invoice.business.business_id, invoice.business.name) == (shop.public_id, shop.name)
    assert outbox_rows(database_url, invoice_id) == 0


async def test_a_render_job_whose_pdf_is_already_ready_is_dropped_not_sent(
    app: InvoiceApp, shop: Tenant, redis_client: redis.Redis, database_url: str
) -> None:
    invoice_id = await create(app, shop)
    applied, _ = await renders.complete_render(
        app.pdf_states, invoice_id, RenderedPdf(1, "invoices/x/g1.pdf", "ab" * 32)
    )
    assert applied

    assert await relay_of(app).publish_due() == 1

    assert render_requests(redis_client) == []
    assert outbox_rows(database_url, invoice_id) == 0


async def test_only_the_current_generation_of_a_regenerated_pdf_is_sent(
    app: InvoiceApp, shop: Tenant, redis_client: redis.Redis
) -> None:
    invoice_id = await create(app, shop)
    await renders.regenerate_pdf(app.unit_of_work(), shop.business_id, invoice_id)

    assert await relay_of(app).publish_due() == 2

    assert [(r.invoice.invoice_id, r.generation) for r in render_requests(redis_client)] == [
        (invoice_id, 2)
    ]


async def test_jobs_of_many_invoices_and_businesses_go_out_in_one_batch_each_with_its_own(
    app: InvoiceApp, shop: Tenant, redis_client: redis.Redis
) -> None:
    other = await new_business(app, "Chidi & Sons")
    made = [(await create(app, shop, f"Customer {n}"), shop) for n in range(3)]
    made.append((await create(app, other, "Customer 3"), other))

    assert await relay_of(app).publish_due() == 4

    sent = [
        (r.invoice.invoice_id, r.invoice.customer_name, r.invoice.business.business_id)
        for r in render_requests(redis_client)
    ]
    assert sent == [
        (invoice_id, f"Customer {n}", owner.public_id) for n, (invoice_id, owner) in enumerate(made)
    ]


async def test_rows_stay_in_the_outbox_while_redis_cannot_be_reached_and_go_out_after(
    app: InvoiceApp, shop: Tenant, redis_client: redis.Redis, database_url: str
) -> None:
    invoice_id = await create(app, shop)
    unreachable = make_settings(
        DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"
    )
    down = OutboxRelay(
        LazyPool(database_url, 1), DramatiqPublisher(create_broker(unreachable)), expand_jobs
    )

    with pytest.raises(redis.ConnectionError):
        await down.publish_due()
    await down.close()

    assert outbox_rows(database_url, invoice_id) == 1
    assert await relay_of(app).publish_due() == 1
    assert [r.invoice.invoice_id for r in render_requests(redis_client)] == [invoice_id]
    assert outbox_rows(database_url, invoice_id) == 0
