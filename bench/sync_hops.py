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
import statistics
import time

import grpc
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from bench.load import grpc_request
from bench.pipeline import render_stack
from bench.stack import Stack
from bench.trace_hops import Hop, SpanKey, hop_offsets, print_hops, read_spans, spans_file

RENDER = "suoops.renderer.v1.RendererService/RenderInvoice"
CREATE: SpanKey = ("invoice", "suoops.invoice.v1.InvoiceService/CreateInvoice", "server")
# (label, service, span name, kind), in the order of the path.
HOPS: tuple[Hop, ...] = (
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=25)
    args = parser.parse_args()
    with spans_file() as path:
        with render_stack(("invoice", "renderer"), OTEL_SPANS_FILE=str(path)) as stack:
            time.sleep(3)
            asyncio.run(sync_creates(stack, 5))  # warm-up
            path.write_text("")  # only the measured creates' spans
            walls = asyncio.run(sync_creates(stack, args.samples))
            time.sleep(1)  # the last spans flushed
        spans = read_spans(path)
    print_hops(
        "Synchronous create by hop, {traces} traces (ms after CreateInvoice's span started);"
        f" client wall p50 {statistics.median(walls):.1f} ms",
        hop_offsets(spans, HOPS, CREATE, "start_ns"),
    )


if __name__ == "__main__":
    main()
