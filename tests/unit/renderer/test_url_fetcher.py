"""The bundle URL fetcher serves the template's own assets and refuses everything else."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import pytest
from weasyprint.urls import URLFetcher, URLFetchingError, fetch

from services.renderer.pdf import BASE_URL, FONTS_DIR, bundled_assets
from services.renderer.url_fetcher import BundleUrlFetcher, RefusedUrlError

pytestmark = pytest.mark.unit

FONT = FONTS_DIR / "NotoSans-Latin-Regular.ttf"


@pytest.fixture
def fetcher() -> BundleUrlFetcher:
    """A fetcher over the renderer's real bundle."""
    return BundleUrlFetcher.from_files(bundled_assets())


def test_serves_a_bundled_font_by_its_url(fetcher: BundleUrlFetcher) -> None:
    response = fetcher.fetch(FONT.as_uri())
    assert response.read() == FONT.read_bytes()
    assert FONT.as_uri() in fetcher.urls


def test_serves_the_fonts_as_the_stylesheet_references_them(fetcher: BundleUrlFetcher) -> None:
    # WeasyPrint joins the CSS's url("../fonts/...") to BASE_URL before fetching.
    url = urljoin(BASE_URL, "../fonts/NotoSans-Latin-Bold.ttf")
    with fetch(fetcher, url) as response:
        assert response.read() == (FONTS_DIR / "NotoSans-Latin-Bold.ttf").read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "https://example.com/logo.png",
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        FONT.parent.as_uri() + "/../pdf.py",
        FONT.parent.as_uri() + "/OFL.txt",
        (Path(__file__)).as_uri(),
        "data:text/plain,hello",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://example.com/x",
        "//example.com/x",
        "",
    ],
)
def test_refuses_every_url_outside_the_bundle(fetcher: BundleUrlFetcher, url: str) -> None:
    with pytest.raises(RefusedUrlError):
        fetcher.fetch(url)


def test_a_refusal_reaches_weasyprint_as_an_ordinary_fetch_error(fetcher: BundleUrlFetcher) -> None:
    # Not fatal: a refused URL makes WeasyPrint skip the resource, not crash the render.
    with pytest.raises(URLFetchingError), fetch(fetcher, "file:///etc/passwd"):
        pass


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x", "data:,x"])
def test_the_inherited_urllib_fetcher_allows_no_protocol(
    fetcher: BundleUrlFetcher, url: str
) -> None:
    with pytest.raises(ValueError, match="disallowed protocol"):
        URLFetcher.fetch(fetcher, url)


def test_the_bundle_is_read_once_not_from_disk_on_each_fetch(tmp_path: Path) -> None:
    asset = tmp_path / "face.ttf"
    asset.write_bytes(b"first")
    fetcher = BundleUrlFetcher.from_files([asset])
    asset.write_bytes(b"second")
    assert fetcher.fetch(asset.resolve().as_uri()).read() == b"first"


def test_the_bundle_holds_the_fonts_and_nothing_else() -> None:
    assert [path.name for path in bundled_assets()] == [
        "NotoSans-Latin-Bold.ttf",
        "NotoSans-Latin-Regular.ttf",
    ]
