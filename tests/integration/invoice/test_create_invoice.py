"""Creating invoices against a real PostgreSQL: one transaction, idempotent, per business."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.errors import AlreadyExists, InvalidInput, NotFound
from services.invoice.domain.rules import InvoiceDraft, LineDraft
from services.invoice.service_layer import invoices
from tests.conftest import Tenant, count_rows, new_business

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

DRAFT = InvoiceDraft(
    customer_name="Ada Obi",
    lines=[LineDraft("Ankara fabric", "2", "15000"), LineDraft("Tailoring", "1.5", "3333.33")],
    tax_rate="7.5",
)


async def test_create_saves_invoice_and_its_render_job_together(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    created = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        DRAFT,
    )
    invoice = created.invoice
    assert invoice.invoice_id.startswith("INV-") and len(invoice.invoice_id) == 14
    assert (str(invoice.subtotal), str(invoice.tax), str(invoice.amount)) == (
        "35000.00",
        "2625.00",
        "37625.00",
    )
    assert invoice.pdf_status == "pending" and invoice.status == "pending"
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT queue, actor, payload FROM outbox WHERE payload->>'invoice_id' = %s",
            (invoice.invoice_id,),
        ).fetchone()
    assert row is not None
    assert row[0] == "pdf_generation" and row[1] == "render_invoice"
    assert row[2]["generation"] == 1


async def test_invalid_request_writes_nothing(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    before = (count_rows(database_url, "invoices"), count_rows(database_url, "outbox"))
    bad = InvoiceDraft(customer_name="Ada", lines=[LineDraft("x", "0", "1")])
    with pytest.raises(InvalidInput):
        await invoices.create_invoice(
            invoice_app.autocommit_unit_of_work(),
            invoice_app.creator,
            business.business_id,
            bad,
            idempotency_key="k-bad",
        )
    after = (count_rows(database_url, "invoices"), count_rows(database_url, "outbox"))
    assert before == after
    assert count_rows(database_url, "idempotency_keys WHERE key = 'k-bad'") == 0


async def test_same_key_and_request_replays_the_first_invoice(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    first = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        DRAFT,
        idempotency_key="k1",
        request_hash="h1",
    )
    again = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        DRAFT,
        idempotency_key="k1",
        request_hash="h1",
    )
    assert not first.replayed and again.replayed
    assert again.invoice.invoice_id == first.invoice.invoice_id


async def test_same_key_with_another_request_is_refused(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        DRAFT,
        idempotency_key="k2",
        request_hash="h1",
    )
    with pytest.raises(AlreadyExists):
        await invoices.create_invoice(
            invoice_app.autocommit_unit_of_work(),
            invoice_app.creator,
            business.business_id,
            DRAFT,
            idempotency_key="k2",
            request_hash="h2",
        )


async def test_twenty_concurrent_creates_with_one_key_make_one_invoice(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    results = await asyncio.gather(
        *(
            invoices.create_invoice(
                invoice_app.autocommit_unit_of_work(),
                invoice_app.creator,
                business.business_id,
                DRAFT,
                idempotency_key="race",
                request_hash="same",
            )
            for _ in range(20)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if isinstance(r, invoices.Created)]
    assert {c.invoice.invoice_id for c in created} == {created[0].invoice.invoice_id}
    assert sum(not c.replayed for c in created) == 1
    assert all(isinstance(r, invoices.Created | AlreadyExists) for r in results)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM invoices WHERE business_id = %s", (business.business_id,)
        ).fetchone()
    assert row is not None and row[0] == 1


async def test_a_key_belongs_to_one_business(invoice_app: InvoiceApp, business: Tenant) -> None:
    other = await new_business(invoice_app, "Other Shop")
    a = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        DRAFT,
        idempotency_key="shared",
        request_hash="h",
    )
    b = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        other.business_id,
        DRAFT,
        idempotency_key="shared",
        request_hash="h",
    )
    assert a.invoice.invoice_id != b.invoice.invoice_id and not b.replayed


async def test_another_business_cannot_read_or_list_an_invoice(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    other = await new_business(invoice_app, "Nosy Shop")
    mine = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        DRAFT,
    )
    with pytest.raises(NotFound):
        await invoices.get_invoice(
            invoice_app.autocommit_unit_of_work(), other.business_id, mine.invoice.invoice_id
        )
    page = await invoices.list_invoices(invoice_app.autocommit_unit_of_work(), other.business_id)
    assert page.invoices == []


async def test_listing_pages_newest_first_to_an_empty_token(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    shop = await new_business(invoice_app, "Paging Shop")
    ids = []
    for _ in range(5):
        created = await invoices.create_invoice(
            invoice_app.autocommit_unit_of_work(),
            invoice_app.creator,
            shop.business_id,
            DRAFT,
        )
        ids.append(created.invoice.invoice_id)
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await invoices.list_invoices(
            invoice_app.autocommit_unit_of_work(), shop.business_id, page_size=2, page_token=token
        )
        seen += [inv.invoice_id for inv in page.invoices]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))
    assert pages == 3


async def test_listing_filters_by_pdf_status(invoice_app: InvoiceApp, business: Tenant) -> None:
    shop = await new_business(invoice_app, "Filter Shop")
    await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        shop.business_id,
        DRAFT,
    )
    pending = await invoices.list_invoices(
        invoice_app.autocommit_unit_of_work(), shop.business_id, pdf_status="pending"
    )
    ready = await invoices.list_invoices(
        invoice_app.autocommit_unit_of_work(), shop.business_id, pdf_status="ready"
    )
    assert len(pending.invoices) == 1 and ready.invoices == []


@pytest.mark.parametrize(("size", "token"), [(201, ""), (-1, ""), (10, "garbage!")])
async def test_bad_page_arguments_are_invalid(
    invoice_app: InvoiceApp, business: Tenant, size: int, token: str
) -> None:
    with pytest.raises(InvalidInput):
        await invoices.list_invoices(
            invoice_app.autocommit_unit_of_work(),
            business.business_id,
            page_size=size,
            page_token=token,
        )


async def test_concurrent_creates_share_statements(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    before = invoice_app.creator.statements
    results = await asyncio.gather(
        *(
            invoices.create_invoice(
                invoice_app.autocommit_unit_of_work(),
                invoice_app.creator,
                business.business_id,
                DRAFT,
            )
            for _ in range(40)
        )
    )
    assert len({r.invoice.invoice_id for r in results}) == 40
    assert all(r.invoice.id is not None for r in results)
    assert invoice_app.creator.statements - before < 40


async def test_a_row_the_database_refuses_fails_alone_in_its_batch(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    no_such_business = 987_654_321
    results = await asyncio.gather(
        *(
            invoices.create_invoice(
                invoice_app.autocommit_unit_of_work(),
                invoice_app.creator,
                no_such_business if i == 3 else business.business_id,
                DRAFT,
            )
            for i in range(8)
        ),
        return_exceptions=True,
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 1 and isinstance(results[3], BaseException)
    saved = [r.invoice.invoice_id for r in results if isinstance(r, invoices.Created)]
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT count(*) FROM invoices WHERE invoice_id = ANY(%s)", (saved,)
        ).fetchone()
    assert found is not None and found[0] == 7
