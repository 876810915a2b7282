"""Each hop of a synchronous create (`async_pdf=false`), read from its trace (spans file).

    .venv/bin/python -m bench.sync_hops [--samples 25]

The invoice service and the renderer service write their spans to a file; invoices are
created one at a time with `async_pdf=false` over gRPC; for each span of the path, the p50 of
its start and end in ms after the invoice service's CreateInvoice span started. Tracing costs
something at every hop, so the hops run a little longer than untraced.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import grpc
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from bench.load import grpc_request
from bench.pipeline import render_stack
from bench.stack import Stack
from bench.table import print_table, speed_probe

RENDER = "suoops.renderer.v1.RendererService/RenderInvoice"
# (label, service, span name, kind), in the order of the path.
HOPS = (
    (
        "CreateInvoice, server",
        "invoice",
        "suoops.invoice.v1.InvoiceService/CreateInvoice",
        "server",
    ),
    ("RenderInvoice, client", "invoice", RENDER, "client"),
    ("RenderInvoice, server", "renderer", RENDER, "server"),
    ("render (render process and back)", "renderer", "render", "internal"),
    ("s3.put_object", "renderer", "s3.put_object", "client"),
)


async def sync_creates(stack: Stack, samples: int) -> list[float]:
    """Wall ms of each synchronous create, one at a time on an idle stack."""
    request = grpc_request()
    request.async_pdf = False
    metadata = (("authorization", f"Bearer {stack.token}"),)
    walls = []
    async with grpc.aio.insecure_channel(stack.invoice_addr) as channel:
        stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
        for _ in range(samples):
            await asyncio.sleep(0.2)
            start = time.perf_counter()
            reply = await stub.CreateInvoice(request, metadata=metadata, timeout=10)
            walls.append((time.perf_counter() - start) * 1000)
            assert reply.invoice.pdf_status == pb.PDF_STATUS_READY
    return walls


def hop_offsets(spans: list[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """Per hop, the starts and ends (ms after the create span started) over complete traces."""
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        traces[span["trace_id"]].append(span)
    out: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label, *_ in HOPS}
    for in_trace in traces.values():
        found = {(s["service"], s["name"], s["kind"]): s for s in in_trace}
        hops = [found[key] for key in (tuple(hop[1:]) for hop in HOPS) if key in found]
        if len(hops) != len(HOPS):
            continue
        origin = hops[0]["start_ns"]
        for (label, *_), hop in zip(HOPS, hops, strict=True):
            out[label][0].append((hop["start_ns"] - origin) / 1e6)
            out[label][1].append((hop["end_ns"] - origin) / 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=25)
    args = parser.parse_args()
    spans_file = Path(tempfile.mkdtemp(prefix="suoops-bench-")) / "spans.jsonl"
    try:
        with render_stack(("invoice", "renderer"), OTEL_SPANS_FILE=str(spans_file)) as stack:
            time.sleep(3)
            asyncio.run(sync_creates(stack, 5))  # warm-up
            spans_file.write_text("")  # only the measured creates' spans
            walls = asyncio.run(sync_creates(stack, args.samples))
            time.sleep(1)  # the last spans flushed
        spans = [json.loads(line) for line in spans_file.read_text().splitlines() if line]
    finally:
        spans_file.unlink(missing_ok=True)
        spans_file.parent.rmdir()
    offsets = hop_offsets(spans)
    complete = len(offsets[HOPS[0][0]][0])
    print_table(
        f"Synchronous create by hop, {complete} traces (ms after CreateInvoice's span started);"
        f" client wall p50 {statistics.median(walls):.1f} ms",
        ["hop", "start p50", "end p50"],
        [
            [label, f"{statistics.median(starts):.1f}", f"{statistics.median(ends):.1f}"]
            for label, (starts, ends) in offsets.items()
            if starts
        ],
    )
    print(f"\n{speed_probe()}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
