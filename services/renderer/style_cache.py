"""Computed styles kept across documents, so each render reuses the last one's style work.

WeasyPrint computes every element's style lazily, property by property, and already shares
one style object between elements with the same parent style and the same matched rules,
but only within a document. Every invoice has the same template and stylesheets, so the
same forty or so styles were computed again on every render: the largest single item in a
profile (about a sixth of a render). Here a style is keyed by what it is computed from (the
parent style object, the cascaded declarations, pseudo-element, base URL and font
configuration) and kept for the process, so later renders find it, its computed values
already filled in. The page is byte-for-byte the same (tested).

It replaces `weasyprint.css.StyleFor`, the class `get_all_computed_styles` builds per document
(private WeasyPrint API, checked at install: should an upgrade move it, renders stay correct,
only slower). Only element styles are cached; page and margin-box styles are computed as before.
"""

from __future__ import annotations

import logging
from typing import Any

import weasyprint.css

log = logging.getLogger(__name__)

# The invoice's template and stylesheets yield 41 styles. Bounds only against surprises: a
# caller making a new FontConfiguration per document (WeasyPrint's default; each one holds
# Pango font maps, and cached styles keep theirs alive) or unhashable declarations from
# style attributes would add keys on every render. Past either bound the cache starts over.
MAX_STYLES = 5_000
MAX_FONT_CONFIGS = 4

_ORIGINAL_STYLE_FOR: type[Any] = weasyprint.css.StyleFor
# key -> (style, and what the key's ids refer to, kept alive so no id is ever reused)
_styles: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_font_configs: set[int] = set()  # ids of the font configurations the cached styles hold


def _value_key(values: Any) -> Any:
    """A declared value as a key part: the value itself, or its identity when unhashable."""
    try:
        hash(values)
    except TypeError:
        return id(values)
    return values


class CachingStyleFor(_ORIGINAL_STYLE_FOR):
    """WeasyPrint's StyleFor, looking element styles up in the process-wide cache first."""

    def set_computed_styles(
        self,
        element: Any,
        parent: Any,
        root: Any = None,
        pseudo_type: str | None = None,
        base_url: str | None = None,
        target_collector: Any = None,
    ) -> None:
        if not hasattr(element, "tag"):  # a page type: not cached
            super().set_computed_styles(
                element, parent, root, pseudo_type, base_url, target_collector
            )
            return
        cascaded = self.get_cascaded_styles().get((element, pseudo_type), {})
        computed_styles = self.get_computed_styles()
        is_root = element == root and pseudo_type is None
        parent_style = None if is_root else computed_styles[parent, None]
        key = (
            id(parent_style),
            pseudo_type,
            base_url,
            id(self.font_config),
            tuple((name, _value_key(v), weight) for name, (v, weight) in cascaded.items()),
        )
        cached = _styles.get(key)
        if cached is not None:
            style = computed_styles[element, pseudo_type] = cached[0]
            if target_collector and style["anchor"]:
                target_collector.collect_anchor(style["anchor"])
            return
        super().set_computed_styles(element, parent, root, pseudo_type, base_url, target_collector)
        font_config = id(self.font_config)
        if len(_styles) >= MAX_STYLES or (
            font_config not in _font_configs and len(_font_configs) >= MAX_FONT_CONFIGS
        ):
            _clear()  # all keys go together: none is left pointing at a freed id
        _font_configs.add(font_config)
        _styles[key] = (
            computed_styles[element, pseudo_type],
            parent_style,
            self.font_config,
            [v for v, _ in cascaded.values()],
        )


def install_style_cache() -> bool:
    """Make WeasyPrint keep element styles across documents in this process; True if it does."""
    if weasyprint.css.StyleFor is CachingStyleFor:
        return True
    if weasyprint.css.StyleFor is not _ORIGINAL_STYLE_FOR or not all(
        hasattr(_ORIGINAL_STYLE_FOR, name)
        for name in ("set_computed_styles", "get_cascaded_styles", "get_computed_styles")
    ):
        log.warning("WeasyPrint's StyleFor has changed: rendering without the style cache")
        return False
    weasyprint.css.StyleFor = CachingStyleFor
    return True


def _clear() -> None:
    _styles.clear()
    _font_configs.clear()


def uninstall_style_cache() -> None:
    """WeasyPrint's own StyleFor again, and the cache emptied (for tests and comparisons)."""
    weasyprint.css.StyleFor = _ORIGINAL_STYLE_FOR
    _clear()


def cached_style_count() -> int:
    """How many distinct element styles the process holds."""
    return len(_styles)
