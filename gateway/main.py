"""`suoops serve gateway`: the REST gateway's entry point."""

from __future__ import annotations

from gateway.server import serve
from services.common.logging import configure_logging
from services.common.settings import Settings
from services.common.tracing import configure_tracing


def main(settings: Settings) -> None:
    """Serve the REST API until SIGTERM or SIGINT."""
    configure_logging("gateway", settings.log_level)
    configure_tracing("gateway", settings)
    serve(settings)
