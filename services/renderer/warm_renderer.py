"""Preloaded by the render pool's fork server: it builds the renderer once (fonts, template,
CSS, a warm-up render), so every render process forked from that server starts warm instead
of paying about a second of start-up each time processes are recycled."""

from __future__ import annotations

import gc
import logging

from services.common.settings import Settings
from services.renderer.render_pool import Renderer, load_factory

FACTORY_PATH: str | None = None
RENDERER: Renderer | None = None

try:
    FACTORY_PATH = Settings.from_env().renderer_factory
    RENDERER = load_factory(FACTORY_PATH)()
except Exception:  # a render process then builds its own, and reports what is wrong
    logging.getLogger(__name__).exception("could not preload the renderer")

# The warm heap (fonts, styles, compiled template) lives as long as the process: move it
# out of the collector's reach, so collections during renders skip it (no full-heap passes)
# and never write to the pages the forked render processes share with this server.
gc.collect()
gc.freeze()
