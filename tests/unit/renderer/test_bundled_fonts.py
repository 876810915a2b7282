"""The committed Latin subset covers every letter and sign the invoice promises."""

from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont

from services.renderer.pdf import FONTS_DIR

pytestmark = pytest.mark.unit

# Yoruba with tones (composed and combining), Igbo, Hausa, Twi, French and Portuguese
# letters, the currency signs we print, and typographic punctuation.
PROMISED = "".join(
    (
        "ẹọṣẸỌṢáàéèíìóòúùńǹḿ\u0300\u0301\u0323\u0304",
        "ịụṅỊỤṄɓɗƙƴƁƊƘƳɛɔƐƆ",
        "çâêôãõœæÇ",
        "₦₵€£$¥₹",
        "–—‘’“”•…№",
    )
)


@pytest.mark.parametrize("weight", ["Regular", "Bold"])
def test_latin_subset_has_a_glyph_for_every_promised_character(weight: str) -> None:
    cmap = TTFont(FONTS_DIR / f"NotoSans-Latin-{weight}.ttf").getBestCmap()
    missing = [f"U+{ord(char):04X}" for char in PROMISED if ord(char) not in cmap]
    assert missing == []


@pytest.mark.parametrize("weight", ["Regular", "Bold"])
def test_latin_subset_keeps_mark_positioning_and_its_licence(weight: str) -> None:
    font = TTFont(FONTS_DIR / f"NotoSans-Latin-{weight}.ttf")
    features = {record.FeatureTag for record in font["GPOS"].table.FeatureList.FeatureRecord}
    assert {"mark", "mkmk"} <= features  # tone marks stacked over dotted vowels
    assert "Open Font License" in font["name"].getDebugName(13)
    assert (FONTS_DIR / "OFL.txt").read_text().startswith("Noto Sans: Copyright")
