"""Each hop of an idle create-to-ready, read from the invoice's trace (spans file).

    .venv/bin/python -m bench.idle_hops [--samples 25]

The invoice service and one worker write their spans to a file; invoices are created one at a
time and watched to `ready`; for each span of the render path, the p50 of its start and end in
ms after the invoice service's CreateInvoice span ended. Tracing costs something at every hop,
so the hops run a little longer than untraced.
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
from bench.pipeline import create_many, render_stack, wait_all_ready
from bench.stack import Stack
from bench.table import print_table, speed_probe

CALLBACKS = "suoops.invoice.v1.RenderCallbackService"
# (label, service, span name, kind), in the order of the render path.
HOPS = (
    (
        "publish (enqueue on a thread, back to the loop)",
        "invoice",
        "publish render_invoice",
        "producer",
    ),
    ("worker's consumer span", "worker", "render_invoice", "consumer"),
    ("render", "worker", "render", "internal"),
    ("StartRender, client", "worker", f"{CALLBACKS}/StartRender", "client"),
    ("StartRender, server", "invoice", f"{CALLBACKS}/StartRender", "server"),
    ("s3.put_object", "worker", "s3.put_object", "client"),
    ("CompleteRender, client", "worker", f"{CALLBACKS}/CompleteRender", "client"),
    ("CompleteRender, server", "invoice", f"{CALLBACKS}/CompleteRender", "server"),
)
CREATE = ("invoice", "suoops.invoice.v1.InvoiceService/CreateInvoice", "server")


async def watched_creates(stack: Stack, samples: int) -> None:
    """Create invoices one at a time on an idle stack, each watched until `ready`."""
    request = grpc_request()
    metadata = (("authorization", f"Bearer {stack.token}"),)
    async with grpc.aio.insecure_channel(stack.invoice_addr) as channel:
        stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
        for _ in range(samples):
            await asyncio.sleep(0.5)
            reply = await stub.CreateInvoice(request, metadata=metadata, timeout=10)
            watch = pb.WatchInvoiceRequest(invoice_id=reply.invoice.invoice_id)
            async for change in stub.WatchInvoice(watch, metadata=metadata, timeout=10):
                if change.pdf.pdf_status == pb.PDF_STATUS_READY:
                    break


def hop_offsets(spans: list[dict[str, Any]]) -> dict[str, tuple[list[float], list[float]]]:
    """Per hop, the starts and ends (ms after the create span ended) over complete traces."""
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in spans:
        traces[span["trace_id"]].append(span)
    out: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label, *_ in HOPS}
    for in_trace in traces.values():
        found = {(s["service"], s["name"], s["kind"]): s for s in in_trace}
        create = found.get(CREATE)
        hops = [found.get((service, name, kind)) for _, service, name, kind in HOPS]
        if create is None or any(h is None for h in hops):
            continue
        for (label, *_), hop in zip(HOPS, hops, strict=True):  # every hop found
            assert hop is not None
            out[label][0].append((hop["start_ns"] - create["end_ns"]) / 1e6)
            out[label][1].append((hop["end_ns"] - create["end_ns"]) / 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=25)
    args = parser.parse_args()
    spans_file = Path(tempfile.mkdtemp(prefix="suoops-bench-")) / "spans.jsonl"
    try:
        with render_stack(
            ("invoice", "worker"),
            OTEL_SPANS_FILE=str(spans_file),
        ) as stack:
            time.sleep(3)
            warm, _ = asyncio.run(create_many(stack, 10, 2))
            wait_all_ready(stack.database_url, warm)
            spans_file.write_text("")  # only the measured invoices' spans
            asyncio.run(watched_creates(stack, args.samples))
            time.sleep(1)  # the last spans flushed
        spans = [json.loads(line) for line in spans_file.read_text().splitlines() if line]
    finally:
        spans_file.unlink(missing_ok=True)
        spans_file.parent.rmdir()
    offsets = hop_offsets(spans)
    complete = len(next(iter(offsets.values()))[0])
    print_table(
        f"Idle create-to-ready by hop, {complete} traces (ms after CreateInvoice's span ended)",
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
