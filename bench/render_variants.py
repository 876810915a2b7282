"""The renderer against the variants it improved on, measured interleaved in one warm process.

    .venv/bin/python -m bench.render_variants [--rounds 60]

CPU time (thread time) per render of the standard invoice, so other processes on the machine
distort the comparison as little as possible; the rows run round by round, in turn.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Callable

import tinyhtml5

from bench.table import print_table, speed_probe
from services.renderer import pdf, style_cache
from services.renderer.samples import sample_invoice


def html5_parse(html: str) -> pdf.ElementTree.Element:
    """The template's output parsed as WeasyPrint itself would (its HTML5 parser)."""
    root: pdf.ElementTree.Element = tinyhtml5.parse(html, namespace_html_elements=False)
    return root


def main() -> None:
    """Run the comparison and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()

    renderer = pdf.InvoicePdfRenderer()
    invoice = sample_invoice()
    xml_parse = pdf.parse_html

    def variant(cache: bool, parse: Callable[[str], pdf.ElementTree.Element]) -> Callable[[], None]:
        def prepare() -> None:
            if cache:
                style_cache.install_style_cache()
            else:
                style_cache.uninstall_style_cache()
            pdf.parse_html = parse  # type: ignore[assignment]

        return prepare

    rows = {
        "final: XML parse, style cache": variant(True, xml_parse),
        "without the style cache": variant(False, xml_parse),
        "HTML5 parse (WeasyPrint's own)": variant(True, html5_parse),
        "before: HTML5 parse, no style cache": variant(False, html5_parse),
    }
    calls: dict[str, int] = {}
    for name, prepare in rows.items():  # a deterministic measure: Python calls per render
        prepare()
        renderer.render(invoice)
        profile = cProfile.Profile()
        profile.runcall(renderer.render, invoice)
        calls[name] = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    cpu: dict[str, list[float]] = {name: [] for name in rows}
    sizes: dict[str, int] = {}
    for round_number in range(args.rounds + 3):
        for name, prepare in rows.items():
            prepare()
            renderer.render(invoice)  # the cache, when on, is warm for the timed render
            started = time.thread_time()
            pdf_bytes = renderer.render(invoice)
            if round_number >= 3:
                cpu[name].append((time.thread_time() - started) * 1000)
            sizes[name] = len(pdf_bytes)
    variant(True, xml_parse)()
    baseline = statistics.median(cpu["before: HTML5 parse, no style cache"])
    print_table(
        "Render variants, standard invoice: CPU ms per render (interleaved)",
        ["variant", "CPU median", "CPU min", "vs before", "Python calls", "PDF bytes"],
        [
            [
                name,
                f"{statistics.median(values):.1f}",
                f"{min(values):.1f}",
                f"{statistics.median(values) / baseline:.0%}",
                f"{calls[name]:,}",
                str(sizes[name]),
            ]
            for name, values in cpu.items()
        ],
    )
    print(f"\n{speed_probe()}")


if __name__ == "__main__":
    main()
