"""Invoice to PDF bytes: a Jinja2 template laid out by WeasyPrint, with everything loaded once."""

from __future__ import annotations

import logging
from pathlib import Path
from xml.etree import ElementTree

import cssselect2
import jinja2
import tinyhtml5
from suoops.invoice.v1 import invoice_pb2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from services.renderer.invoice_view import invoice_view
from services.renderer.samples import sample_invoice
from services.renderer.style_cache import install_style_cache
from services.renderer.url_fetcher import BundleUrlFetcher

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
FONTS_DIR = PACKAGE_DIR / "fonts"
# The base URL relative references resolve against; the fetcher serves only the bundle.
BASE_URL = TEMPLATES_DIR.as_uri() + "/"


class RendererError(Exception):
    """Base of the renderer's errors."""


class TemplateError(RendererError):
    """The template cannot render this invoice: permanent, retrying will not help."""


def parse_html(html: str) -> ElementTree.Element:
    """The template's output as the element tree WeasyPrint lays out.

    The template is written as well-formed XHTML (self-closed void elements, explicit
    tbody), so expat parses it, about 25 times faster than an HTML5 parser, into the same
    tree. A field holding a character XML forbids (a control character) falls back to the
    HTML5 parser WeasyPrint itself uses.
    """
    try:
        return ElementTree.fromstring(html)
    except ElementTree.ParseError:
        root: ElementTree.Element = tinyhtml5.parse(html, namespace_html_elements=False)
        return root


class _InvoiceHtml(HTML):
    """An HTML document from an element tree, styled by the renderer's own user-agent sheet."""

    user_agent_stylesheet: CSS

    def __init__(
        self,
        root: ElementTree.Element,
        user_agent_stylesheet: CSS,
        *,
        base_url: str,
        url_fetcher: BundleUrlFetcher,
    ) -> None:
        # What HTML.__init__ does once it has parsed (WeasyPrint 70); the template has no
        # <base>, so the base URL is the one given. A unit test compares the two paths' PDFs.
        self.base_url = base_url
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element
        self.user_agent_stylesheet = user_agent_stylesheet

    # WeasyPrint's hook for its HTML5 defaults (private API). Should an upgrade drop
    # it, WeasyPrint's full stylesheet applies: the same page, only slower.
    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [self.user_agent_stylesheet]


def bundled_assets() -> list[Path]:
    """Every file the template may load: its fonts, nothing else."""
    return sorted(FONTS_DIR.glob("*.ttf"))


def template_environment() -> jinja2.Environment:
    """The templates' Jinja2 environment: autoescaped, strict about missing values."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )


def parse_stylesheet(name: str, fetcher: BundleUrlFetcher, font_config: FontConfiguration) -> CSS:
    """One of the templates' stylesheets, parsed (its fonts registered) once."""
    return CSS(
        string=(TEMPLATES_DIR / name).read_text(encoding="utf-8"),
        base_url=BASE_URL,
        url_fetcher=fetcher,
        font_config=font_config,
    )


class InvoicePdfRenderer:
    """Renders invoices to PDF. Build one per process and reuse it: not thread-safe.

    Construction loads the fonts, compiles the template, parses the CSS and renders a
    sample once (about a quarter of a second); a render then only lays out and writes.
    """

    def __init__(self) -> None:
        # Element styles computed once for the process, not once per render (style_cache.py).
        install_style_cache()
        self._fetcher = BundleUrlFetcher.from_files(bundled_assets())
        # One font configuration for the process: Pango keeps loaded faces and their
        # shaping data across documents, and the @font-face files are registered once.
        self._font_config = FontConfiguration()
        self._template = template_environment().get_template("invoice.html")
        self._stylesheet = parse_stylesheet("invoice.css", self._fetcher, self._font_config)
        self._user_agent_stylesheet = parse_stylesheet(
            "user_agent.css", self._fetcher, self._font_config
        )
        # Pango loads faces and builds shaping data on first use: pay for that here,
        # at start-up, rather than in the first invoice's latency.
        self.render(sample_invoice())

    def render_html(self, invoice: invoice_pb2.Invoice) -> str:
        """The invoice as the HTML WeasyPrint lays out (for previews and tests)."""
        try:
            return self._template.render(inv=invoice_view(invoice))
        except jinja2.TemplateError as error:
            raise TemplateError(f"invoice template failed: {error}") from error

    def render(self, invoice: invoice_pb2.Invoice) -> bytes:
        """The invoice as PDF bytes."""
        document = _InvoiceHtml(
            parse_html(self.render_html(invoice)),
            self._user_agent_stylesheet,
            base_url=BASE_URL,
            url_fetcher=self._fetcher,
        )
        pdf = document.write_pdf(stylesheets=[self._stylesheet], font_config=self._font_config)
        if pdf is None:  # write_pdf returns None only when given a target
            raise RendererError("WeasyPrint returned no PDF")
        return pdf
