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
import time

import grpc
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from bench.load import grpc_request
from bench.pipeline import create_many, render_stack, wait_all_ready
from bench.stack import Stack
from bench.trace_hops import Hop, SpanKey, hop_offsets, print_hops, read_spans, spans_file

CALLBACKS = "suoops.invoice.v1.RenderCallbackService"
# (label, service, span name, kind), in the order of the render path.
HOPS: tuple[Hop, ...] = (
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
CREATE: SpanKey = ("invoice", "suoops.invoice.v1.InvoiceService/CreateInvoice", "server")


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=25)
    args = parser.parse_args()
    with spans_file() as path:
        with render_stack(("invoice", "worker"), OTEL_SPANS_FILE=str(path)) as stack:
            time.sleep(3)
            warm, _ = asyncio.run(create_many(stack, 10, 2))
            wait_all_ready(stack.database_url, warm)
            path.write_text("")  # only the measured invoices' spans
            asyncio.run(watched_creates(stack, args.samples))
            time.sleep(1)  # the last spans flushed
        spans = read_spans(path)
    print_hops(
        "Idle create-to-ready by hop, {traces} traces (ms after CreateInvoice's span ended)",
        hop_offsets(spans, HOPS, CREATE, "end_ns"),
    )


if __name__ == "__main__":
    main()
