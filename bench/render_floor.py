"""Benchmark a, the render floor: WeasyPrint alone in a warm process, no queue, no I/O.

    .venv/bin/python -m bench.render_floor [--rounds 60] [--gc-freeze]

Rows are interleaved round by round so that noise from other processes on the
machine spreads evenly over them; wall and CPU times are both reported.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import weasyprint
from pypdf import PdfReader
from suoops.invoice.v1 import invoice_pb2
from weasyprint.text.ffi import harfbuzz_subset

from bench.table import print_table, speed_probe
from services.renderer.pdf import InvoicePdfRenderer
from services.renderer.samples import sample_invoice

INTERNATIONAL_NAME = "Adéwálé Ọ̀ṣọ́ · محمد · 王小明 · 田中"


@dataclass
class Row:
    """One benchmarked invoice and what its renders measured."""

    name: str
    invoice: invoice_pb2.Invoice
    every: int = 1  # render on every `every`-th round only (the slow rows)
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    pdf: bytes = b""

    def render(self, render: Callable[[invoice_pb2.Invoice], bytes]) -> None:
        """Render once, recording wall and CPU time."""
        wall, cpu = time.perf_counter(), time.thread_time()
        self.pdf = render(self.invoice)
        self.cpu_ms.append((time.thread_time() - cpu) * 1000)
        self.wall_ms.append((time.perf_counter() - wall) * 1000)

    def cells(self) -> list[str]:
        """The row's table cells."""
        wall = sorted(self.wall_ms)
        p95 = wall[min(len(wall) - 1, round(0.95 * (len(wall) - 1)))]
        return [
            self.name,
            str(len(wall)),
            f"{statistics.median(wall):.1f}",
            f"{p95:.1f}",
            f"{wall[0]:.1f}",
            f"{statistics.median(self.cpu_ms):.1f}",
            f"{len(self.pdf) / 1024:.1f}",
            str(page_count(self.pdf)),
        ]


def page_count(pdf: bytes) -> int:
    """How many pages a PDF has."""
    return len(PdfReader(io.BytesIO(pdf)).pages)


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60, help="renders of the standard invoice")
    parser.add_argument("--warmup", type=int, default=5, help="untimed renders of each row first")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after warm-up, as a worker could"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    renderer = InvoicePdfRenderer()
    startup_ms = (time.perf_counter() - started) * 1000
    rows = [
        Row("standard invoice, 8 lines", sample_invoice()),
        Row(
            "Yoruba, Arabic and CJK names, 8 lines",
            sample_invoice(customer_name=INTERNATIONAL_NAME),
        ),
        Row("200 lines", sample_invoice(lines=200), every=10),
    ]
    for row in rows:
        for _ in range(args.warmup if row.every == 1 else 1):
            renderer.render(row.invoice)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    for round_number in range(args.rounds):
        for row in rows:
            if round_number % row.every == 0:
                row.render(renderer.render)

    print_table(
        "Render floor (bench a): WeasyPrint alone, warm process, times in ms",
        ["invoice", "renders", "median", "p95", "min", "CPU median", "PDF KB", "pages"],
        [row.cells() for row in rows],
    )
    print(
        f"\nrenderer start-up (fonts, template, CSS, warm-up render): {startup_ms:.0f} ms; "
        f"WeasyPrint {weasyprint.__version__}, HarfBuzz subsetting "
        f"{'on' if harfbuzz_subset else 'OFF (fontTools)'}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        f"{', gc frozen' if args.gc_freeze else ''}; {speed_probe()}"
    )


if __name__ == "__main__":
    main()
