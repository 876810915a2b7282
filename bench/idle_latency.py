"""Create-to-ready on an idle stack (bench f), split into its stages, next to the render floor
measured at the same moments, so a busy machine does not hide what the pipeline adds.

    .venv/bin/python -m bench.idle_latency [--samples 20] [--poll-ms 50]

Stages, as a watcher on the WatchInvoice stream sees them: create answered;
`rendering` (outbox relay, Redis, worker pick-up, StartRender); `ready` (render, S3 upload,
CompleteRender). After each sample this process renders the same invoice itself: the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import grpc
import redis
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from bench.load import grpc_request
from bench.pipeline import REDIS_URL, create_many, render_stack, wait_all_ready
from bench.stack import Stack
from bench.table import print_table, speed_probe
from services.renderer.pdf import InvoicePdfRenderer
from services.renderer.samples import sample_invoice


async def staged_samples(stack: Stack, samples: int) -> list[dict[str, float]]:
    """Per sample: ms from the create call to its answer, to `rendering`, to `ready`, and a
    local render's wall time right after."""
    renderer = InvoicePdfRenderer()
    floor_invoice = sample_invoice()
    request = grpc_request()
    metadata = (("authorization", f"Bearer {stack.token}"),)
    out = []
    async with grpc.aio.insecure_channel(stack.invoice_addr) as channel:
        stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
        for _ in range(samples):
            await asyncio.sleep(0.5)  # idle, as on a quiet stack
            start = time.perf_counter()
            reply = await stub.CreateInvoice(request, metadata=metadata, timeout=10)
            stages = {"answered": time.perf_counter() - start}
            watch = pb.WatchInvoiceRequest(invoice_id=reply.invoice.invoice_id)
            async for change in stub.WatchInvoice(watch, metadata=metadata, timeout=10):
                now = time.perf_counter() - start
                if change.pdf.pdf_status == pb.PDF_STATUS_RENDERING:
                    stages.setdefault("rendering", now)
                if change.pdf.pdf_status == pb.PDF_STATUS_READY:
                    stages.setdefault("rendering", now)
                    stages["ready"] = now
                    break
            local = time.perf_counter()
            renderer.render(floor_invoice)
            stages["floor"] = time.perf_counter() - local
            out.append({k: v * 1000 for k, v in stages.items()})
    return out


def main() -> None:
    """Start an invoice service and a worker, take the samples, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--poll-ms", default="50")
    args = parser.parse_args()
    with render_stack(
        ("invoice", "worker"),
        WORKER_POLL_MS=args.poll_ms,
    ) as stack:
        time.sleep(3)
        warm, _ = asyncio.run(create_many(stack, 10, 2))
        wait_all_ready(stack.database_url, warm)
        samples = asyncio.run(staged_samples(stack, args.samples))
    redis.Redis.from_url(REDIS_URL).flushdb()

    def p50(key: str) -> float:
        return statistics.median(s[key] for s in samples)

    rows = [
        ["create answered", f"{p50('answered'):.1f}"],
        ["seen `rendering` (relay, queue, pick-up, StartRender)", f"{p50('rendering'):.1f}"],
        ["seen `ready` = f", f"{p50('ready'):.1f}"],
        ["render floor at the same moments (this process)", f"{p50('floor'):.1f}"],
        [
            "f minus the floor, per sample (target: <= 50)",
            f"{statistics.median(s['ready'] - s['floor'] for s in samples):.1f}",
        ],
    ]
    print_table(
        f"Idle create-to-ready, {len(samples)} samples, WORKER_POLL_MS={args.poll_ms}",
        ["stage (p50, ms from the create call)", "ms"],
        rows,
    )
    print(f"\n{speed_probe()}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
