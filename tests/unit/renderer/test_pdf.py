"""The PDF an invoice renders to: what it says, how it paginates, which fonts it carries."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from weasyprint import CSS, HTML

from services.renderer import pdf as pdf_module
from services.renderer.pdf import InvoicePdfRenderer, TemplateError
from services.renderer.samples import sample_invoice
from services.renderer.url_fetcher import BundleUrlFetcher
from tests.unit.renderer.conftest import embedded_fonts, page_texts, pdf_text, squeeze

pytestmark = pytest.mark.unit


def test_pdf_shows_number_business_customer_every_line_and_naira_totals(
    renderer: InvoicePdfRenderer,
) -> None:
    invoice = sample_invoice()
    text = pdf_text(renderer.render(invoice))
    flat = squeeze(text)

    for expected in (
        "INV-0004217",
        "Ìmọ́lẹ̀ Creative Studio Ltd",
        "Adéwálé Ọ̀ṣọ́ Enterprises",
        "accounts@adewale-oso.ng",
        "+2348012345678",
        "Issued 5 March 2025",
        "Due 14 April 2025",
        "₦1,259,900.00 due 14 April 2025",
        "Tax (7.5%)",
        "Subtotal",
        "₦1,172,000.00",
        "₦87,900.00",
        "Total ₦1,259,900.00",
        "Payment by bank transfer to GTBank 0123456789 within 14 days.",
    ):
        assert squeeze(expected) in flat, expected
    for line in invoice.lines:
        assert squeeze(line.description) in flat
    assert "Revisionsbeyondtheagreedtworounds,perhour3.5₦12,000.00₦42,000.00" in flat


def test_pdf_starts_with_a_pdf_header_and_is_one_page(renderer: InvoicePdfRenderer) -> None:
    pdf = renderer.render(sample_invoice())
    assert pdf.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_standard_invoice_pdf_stays_small(renderer: InvoicePdfRenderer) -> None:
    assert len(renderer.render(sample_invoice())) < 150 * 1024


def test_other_currencies_print_their_sign_or_code(renderer: InvoicePdfRenderer) -> None:
    dollars = squeeze(pdf_text(renderer.render(sample_invoice(currency="USD"))))
    francs = squeeze(pdf_text(renderer.render(sample_invoice(currency="CHF"))))
    assert "Total$1,259,900.00" in dollars
    assert "₦" not in dollars
    assert "TotalCHF1,259,900.00" in francs


def test_two_hundred_lines_paginate_with_repeated_header_and_page_numbers(
    renderer: InvoicePdfRenderer,
) -> None:
    invoice = sample_invoice(lines=200)
    pages = page_texts(renderer.render(invoice))

    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "DESCRIPTION" in text and "UNIT PRICE" in text  # the repeated table header
        assert "INV-0004217" in text  # the running footer
    flat = squeeze("".join(pages))
    for line in invoice.lines:
        assert squeeze(line.description) in flat
    assert "Total₦31,497,500.00" in flat


def test_lines_keep_their_order_across_pages(renderer: InvoicePdfRenderer) -> None:
    text = pdf_text(renderer.render(sample_invoice(lines=200)))
    numbers = [int(found) for found in re.findall(r"#(\d+)", text)]
    assert numbers == list(range(9, 201))


def test_same_invoice_renders_to_identical_bytes(renderer: InvoicePdfRenderer) -> None:
    assert renderer.render(sample_invoice()) == renderer.render(sample_invoice())


def test_latin_invoice_embeds_only_the_bundled_latin_faces(renderer: InvoicePdfRenderer) -> None:
    fonts = embedded_fonts(renderer.render(sample_invoice()))
    assert set(fonts) == {"Invoice-Sans", "Invoice-Sans-Bold"}
    assert not any(fonts.values())


@pytest.mark.parametrize(
    ("name", "font"),
    [
        ("محمد", "Noto-Sans-Arabic-Bold"),
        ("王小明", "Noto-Sans-CJK-SC-Bold"),
        ("田中", "Noto-Sans-CJK-SC-Bold"),
        ("Ελένη Παπαδοπούλου", "Noto-Sans-Bold"),
    ],
)
def test_non_latin_names_use_a_real_font_and_no_box_glyph(
    renderer: InvoicePdfRenderer, name: str, font: str
) -> None:
    fonts = embedded_fonts(renderer.render(sample_invoice(customer_name=name)))
    assert font in fonts
    assert not any(fonts.values()), f"a glyph fell back to .notdef: {fonts}"


def test_yoruba_cjk_and_arabic_names_extract_as_the_same_text(
    renderer: InvoicePdfRenderer,
) -> None:
    name = "Adéwálé Ọ̀ṣọ́ · 王小明 · 田中 · محمد"
    pdf = renderer.render(sample_invoice(customer_name=name))
    flat = squeeze(pdf_text(pdf))
    for part in ("AdéwáléỌ̀ṣọ́", "王小明", "田中"):
        assert squeeze(part) in flat
    # Arabic may extract in visual order; every letter must be there either way.
    assert squeeze("محمد") in flat or squeeze("دمحم") in flat
    assert not any(embedded_fonts(pdf).values())


def test_a_character_no_font_has_is_detected_as_a_box(renderer: InvoicePdfRenderer) -> None:
    # Proves embedded_fonts() can see a .notdef box, so the tests above can fail.
    fonts = embedded_fonts(renderer.render(sample_invoice(customer_name="Ada \U000f0000")))
    assert any(fonts.values())


def test_renders_fetch_nothing_after_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[str] = []
    original = BundleUrlFetcher.fetch

    def recording_fetch(self: BundleUrlFetcher, url: str, headers: object = None) -> object:
        fetched.append(url)
        return original(self, url)

    monkeypatch.setattr(BundleUrlFetcher, "fetch", recording_fetch)
    renderer = InvoicePdfRenderer()
    at_start = list(fetched)
    renderer.render(sample_invoice())
    renderer.render(sample_invoice(customer_name="王小明"))

    assert sorted(url.rsplit("/", 1)[-1] for url in at_start) == [
        "NotoSans-Latin-Bold.ttf",
        "NotoSans-Latin-Regular.ttf",
    ]
    assert fetched == at_start


def test_template_failure_raises_template_error(
    renderer: InvoicePdfRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = pdf_module.jinja2.Environment(
        autoescape=True, undefined=pdf_module.jinja2.StrictUndefined
    ).from_string("{{ inv.no_such_field }}")
    monkeypatch.setattr(renderer, "_template", broken)
    with pytest.raises(TemplateError):
        renderer.render(sample_invoice())


def test_weasyprint_applies_the_renderers_own_user_agent_stylesheet(
    renderer: InvoicePdfRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hook is private WeasyPrint API: this fails if an upgrade stops calling it.
    calls: list[bool] = []
    original = pdf_module._InvoiceHtml._ua_stylesheets

    def recording(self: pdf_module._InvoiceHtml, forms: bool = False) -> list[CSS]:
        calls.append(forms)
        return original(self, forms)

    monkeypatch.setattr(pdf_module._InvoiceHtml, "_ua_stylesheets", recording)
    renderer.render(sample_invoice())
    assert calls


def test_own_user_agent_stylesheet_lays_out_like_weasyprints(
    renderer: InvoicePdfRenderer,
) -> None:
    invoice = sample_invoice(lines=60)
    with_weasyprints = HTML(
        string=renderer.render_html(invoice),
        base_url=pdf_module.BASE_URL,
        url_fetcher=BundleUrlFetcher.from_files(pdf_module.bundled_assets()),
    ).write_pdf(stylesheets=[renderer._stylesheet], font_config=renderer._font_config)
    assert with_weasyprints is not None
    assert page_texts(renderer.render(invoice)) == page_texts(with_weasyprints)
