"""The template's output is parsed as XML and lays out exactly as WeasyPrint's own parse would."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from suoops.invoice.v1 import invoice_pb2
from weasyprint import CSS, HTML

from services.renderer import pdf as pdf_module
from services.renderer.pdf import InvoicePdfRenderer, parse_html
from services.renderer.samples import sample_invoice

pytestmark = pytest.mark.unit

MARKUP = "Ọ̀ṣọ́ & Sons <b>\"bold\"</b> 'quoted' محمد 王小明 <!-- not a comment --> ]]>"


def without_contact(invoice: invoice_pb2.Invoice) -> invoice_pb2.Invoice:
    invoice.customer_email = ""
    invoice.customer_phone = ""
    return invoice


INVOICES = {
    "standard": sample_invoice(),
    "markup in every text field": sample_invoice(
        customer_name=MARKUP, business_name=MARKUP, notes=MARKUP
    ),
    "no notes, no contact": without_contact(sample_invoice(notes="")),
    "three pages": sample_invoice(lines=60),
}


def weasyprints_own_parse(renderer: InvoicePdfRenderer, invoice: invoice_pb2.Invoice) -> bytes:
    """The PDF WeasyPrint makes when it parses the same HTML itself (HTML5 parser)."""

    class Html5Parsed(HTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
            return [renderer._user_agent_stylesheet]

    pdf = Html5Parsed(
        string=renderer.render_html(invoice),
        base_url=pdf_module.BASE_URL,
        url_fetcher=renderer._fetcher,
    ).write_pdf(stylesheets=[renderer._stylesheet], font_config=renderer._font_config)
    assert pdf is not None
    return bytes(pdf)


@pytest.mark.parametrize("name", INVOICES)
def test_template_output_is_well_formed_xml(renderer: InvoicePdfRenderer, name: str) -> None:
    root = ElementTree.fromstring(renderer.render_html(INVOICES[name]))
    assert root.tag == "html"


@pytest.mark.parametrize("name", INVOICES)
def test_xml_parsed_invoice_is_byte_identical_to_weasyprints_own_parse(
    renderer: InvoicePdfRenderer, name: str
) -> None:
    invoice = INVOICES[name]
    assert renderer.render(invoice) == weasyprints_own_parse(renderer, invoice)


def test_a_control_character_in_a_field_falls_back_to_the_html5_parser(
    renderer: InvoicePdfRenderer,
) -> None:
    invoice = sample_invoice(customer_name="Bell\x07 Ventures")
    html = renderer.render_html(invoice)
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(html)

    assert parse_html(html).tag == "html"
    assert renderer.render(invoice) == weasyprints_own_parse(renderer, invoice)
