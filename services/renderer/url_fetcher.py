"""The only door WeasyPrint has to the outside: it opens onto the template's own assets."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)


class RefusedUrlError(ValueError):
    """A URL outside the bundle: the renderer never reads files or calls hosts."""


class BundleUrlFetcher(URLFetcher):
    """Serves the bundled assets, read into memory once, and refuses every other URL.

    The bundle is matched by exact URL, so no scheme (http, https, file, data, ftp),
    no path traversal and no symlink can reach anything the bundle does not hold.
    """

    def __init__(self, assets: Mapping[str, bytes]) -> None:
        # No protocol allowed: should WeasyPrint ever call the inherited urllib
        # machinery directly, it refuses too. Refusals are warnings, not crashes.
        super().__init__(allowed_protocols=(), fail_on_errors=False)
        self._assets = MappingProxyType(dict(assets))

    @classmethod
    def from_files(cls, files: Iterable[Path]) -> BundleUrlFetcher:
        """A fetcher serving these files (by their file: URL), read once now."""
        return cls({path.resolve().as_uri(): path.read_bytes() for path in files})

    @property
    def urls(self) -> frozenset[str]:
        """The URLs this fetcher serves."""
        return frozenset(self._assets)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """The bundled asset at exactly this URL; anything else raises RefusedUrlError."""
        body = self._assets.get(url)
        if body is None:
            # Log a bounded prefix only: the URL may come from user input.
            logger.warning("renderer refused to fetch a URL outside its bundle: %.80r", url)
            raise RefusedUrlError(f"refused URL outside the renderer bundle: {url[:80]!r}")
        mime_type = mimetypes.guess_type(url)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body, {"Content-Type": mime_type})
