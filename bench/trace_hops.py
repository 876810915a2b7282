"""Shared by the hop benchmarks: a spans file for the stack, and each hop's offsets in a trace."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.table import print_table, speed_probe

# A span: (service, span name, kind); a hop: a label and its span.
SpanKey = tuple[str, str, str]
Hop = tuple[str, str, str, str]
Offsets = dict[str, tuple[list[float], list[float]]]


@contextmanager
def spans_file() -> Iterator[Path]:
    """A file for OTEL_SPANS_FILE, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="suoops-bench-")) / "spans.jsonl"
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
        path.parent.rmdir()


def read_spans(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def hop_offsets(
    spans: list[dict[str, Any]], hops: tuple[Hop, ...], origin: SpanKey, origin_edge: str
) -> Offsets:
    """Per hop, its starts and ends in ms after the origin span's `origin_edge` ("start_ns" or
    "end_ns"), over the traces that hold the origin and every hop."""
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        traces[span["trace_id"]].append(span)
    out: Offsets = {label: ([], []) for label, *_ in hops}
    for in_trace in traces.values():
        found = {(s["service"], s["name"], s["kind"]): s for s in in_trace}
        keys = [(service, name, kind) for _, service, name, kind in hops]
        if origin not in found or any(key not in found for key in keys):
            continue
        zero = found[origin][origin_edge]
        for (label, *_), key in zip(hops, keys, strict=True):
            out[label][0].append((found[key]["start_ns"] - zero) / 1e6)
            out[label][1].append((found[key]["end_ns"] - zero) / 1e6)
    return out


def print_hops(title: str, offsets: Offsets) -> None:
    """The p50 start and end of each hop, with how many traces were complete."""
    complete = len(next(iter(offsets.values()))[0])
    print_table(
        title.format(traces=complete),
        ["hop", "start p50", "end p50"],
        [
            [label, f"{statistics.median(starts):.1f}", f"{statistics.median(ends):.1f}"]
            for label, (starts, ends) in offsets.items()
            if starts
        ],
    )
    print(f"\n{speed_probe()}; load average {os.getloadavg()[0]:.2f}")
