"""Rebuild the renderer's bundled Latin fonts: Noto Sans cut down to what invoices print.

The output is committed (services/renderer/fonts/), so neither `make` nor the
renderer runs this; run it by hand after changing the character set below, with
Debian's fonts-noto-core installed:

    .venv/bin/python scripts/build_fonts.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

SOURCE_DIR = Path("/usr/share/fonts/truetype/noto")
TARGET_DIR = Path(__file__).resolve().parent.parent / "services" / "renderer" / "fonts"
WEIGHTS = ("Regular", "Bold")

# Latin for English, French, Portuguese, and the Nigerian and West African
# languages (Yoruba ẹ ọ ṣ with tone marks, Igbo ị ụ ṅ, Hausa ɓ ɗ ƙ ƴ, Twi ɛ ɔ),
# every combining mark, punctuation, the currency signs (₦ ₵ € £ ₹) and a few symbols.
# Anything else (Greek, Cyrillic, Arabic, CJK) falls through to the system Noto fonts.
UNICODES = (
    "U+0020-007E,U+00A0-024F,U+0253,U+0254,U+0257,U+0259,U+025B,U+0263,U+0272,U+028B,"
    "U+02B9-02DD,U+0300-036F,U+1E00-1EFF,U+2010-2027,U+2030-203A,U+2044,U+20A0-20C0,"
    "U+2116,U+2122,U+2190-2193,U+2212,U+FEFF,U+FFFD"
)


def build_subset(source: Path, target: Path) -> int:
    """Write the subset of one font file; returns its size in bytes."""
    options = subset.Options()
    options.hinting = False  # WeasyPrint drops hinting from PDFs anyway
    options.desubroutinize = True
    # Keep the copyright, licence and its URL (name IDs 0, 13, 14), as the OFL asks.
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    # Keep the source timestamp so that rebuilding gives byte-identical files.
    font = TTFont(source, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(UNICODES))
    subsetter.subset(font)
    font.save(target)
    return target.stat().st_size


def main() -> None:
    """Build every bundled weight."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", type=Path, default=SOURCE_DIR)
    parser.add_argument("--target-dir", type=Path, default=TARGET_DIR)
    args = parser.parse_args()
    args.target_dir.mkdir(parents=True, exist_ok=True)
    for weight in WEIGHTS:
        target = args.target_dir / f"NotoSans-Latin-{weight}.ttf"
        size = build_subset(args.source_dir / f"NotoSans-{weight}.ttf", target)
        print(f"{target}: {size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
