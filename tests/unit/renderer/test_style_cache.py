"""Element styles kept across renders: fewer computations, the very same pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import weasyprint.css
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from services.renderer import style_cache
from services.renderer.pdf import InvoicePdfRenderer
from services.renderer.samples import sample_invoice

pytestmark = pytest.mark.unit

INVOICES = [
    sample_invoice(),
    sample_invoice(customer_name="Adéwálé Ọ̀ṣọ́ · محمد · 王小明", currency="USD"),
    sample_invoice(lines=60, notes=""),
    sample_invoice(lines=1, business_name="Ìmọ́lẹ̀ " * 40, tax_rate="0"),
]


@pytest.fixture
def without_cache() -> Iterator[None]:
    """WeasyPrint's own StyleFor for the test; the cache back afterwards."""
    style_cache.uninstall_style_cache()
    yield
    style_cache.install_style_cache()


def test_cached_styles_give_byte_identical_pdfs(
    renderer: InvoicePdfRenderer, without_cache: None
) -> None:
    uncached = [renderer.render(invoice) for invoice in INVOICES]
    assert style_cache.install_style_cache()

    for _ in range(2):  # the first round fills the cache, the second reads it
        assert [renderer.render(invoice) for invoice in INVOICES] == uncached


def test_later_renders_reuse_every_style_of_the_first(renderer: InvoicePdfRenderer) -> None:
    renderer.render(INVOICES[0])
    after_first = style_cache.cached_style_count()

    for invoice in INVOICES:
        renderer.render(invoice)

    assert 0 < after_first == style_cache.cached_style_count()


def test_a_changed_weasyprint_is_left_alone_and_still_renders(
    renderer: InvoicePdfRenderer, without_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Replaced(style_cache._ORIGINAL_STYLE_FOR):
        pass

    monkeypatch.setattr(weasyprint.css, "StyleFor", Replaced)

    assert not style_cache.install_style_cache()
    assert weasyprint.css.StyleFor is Replaced
    assert renderer.render(INVOICES[0]).startswith(b"%PDF-")


def test_other_documents_in_the_process_render_as_without_the_cache(
    renderer: InvoicePdfRenderer, without_cache: None
) -> None:
    # Another template and stylesheet (as the tax report has) shares the process and the cache.
    html = (
        '<html lang="en"><body><h1>Report</h1><table><tr><td class="n">1</td><td>Ọlá</td>'
        "</tr><tr><td class=n>2</td><td>محمد</td></tr></table><p>Done.</p></body></html>"
    )
    fonts = FontConfiguration()
    sheet = CSS(
        string="body { font-size: 9pt } td.n { padding: 4pt; color: #0f4c5c } h1 { margin: 0 }",
        font_config=fonts,
    )

    def other() -> bytes:
        pdf = HTML(string=html).write_pdf(stylesheets=[sheet], font_config=fonts)
        assert pdf is not None
        return bytes(pdf)

    uncached = (other(), renderer.render(INVOICES[0]))
    assert style_cache.install_style_cache()

    assert (other(), renderer.render(INVOICES[0])) == uncached
    styles = style_cache.cached_style_count()
    assert (other(), renderer.render(INVOICES[0])) == uncached  # now from the cache
    assert style_cache.cached_style_count() == styles


def test_a_new_font_configuration_per_document_cannot_grow_the_cache_without_bound(
    renderer: InvoicePdfRenderer,
) -> None:
    for _ in range(style_cache.MAX_FONT_CONFIGS + 3):  # WeasyPrint's default: one per document
        assert HTML(string="<p>Fresh fonts each time</p>").write_pdf() is not None
        assert len(style_cache._font_configs) <= style_cache.MAX_FONT_CONFIGS

    assert renderer.render(INVOICES[0]) == renderer.render(INVOICES[0])
