"""Benchmark: the render pipeline end to end on this machine (issue 3, figures b to f).

Run: .venv/bin/python -m bench.pipeline [--invoices 500] [--concurrency 32]

Everything runs here: PostgreSQL, Redis (database 14 of the local server, emptied), a moto
S3 server, the invoice service, one worker (RENDER_PROCESSES render processes), the gateway
and the renderer service.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import psutil
import psycopg
import redis
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from bench.load import Result, closed_loop, grpc_request, rest_creates
from bench.stack import Stack, running_stack, s3_server
from bench.table import print_table, speed_probe

REDIS_URL = os.environ.get("SUOOPS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@contextmanager
def render_stack(roles: tuple[str, ...] = ("invoice", "worker"), **env: str) -> Iterator[Stack]:
    """A stack that renders: an emptied Redis db, a moto S3 server with a bucket of its own,
    and the roles running; Redis is emptied again afterwards."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    try:
        with (
            s3_server() as s3,
            running_stack(
                roles,
                REDIS_URL=REDIS_URL,
                S3_ENDPOINT_URL=s3,
                S3_BUCKET=f"bench-{uuid.uuid4().hex[:8]}",
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
                **env,
            ) as stack,
        ):
            yield stack
    finally:
        redis.Redis.from_url(REDIS_URL).flushdb()


def machine_busy_seconds() -> float:
    """CPU seconds all processes on this machine have used (user + system + the rest)."""
    times = psutil.cpu_times()
    return times.user + times.system + times.nice + times.irq + times.softirq


def worker_rss_mb(stack: Stack) -> float:
    """Resident memory of the worker and its render processes together."""
    parent = psutil.Process(stack.pid("worker"))
    return sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]) / 2**20


def ready_count(database_url: str, ids: list[str]) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM invoices WHERE pdf_status = 'ready' AND invoice_id = ANY(%s)",
            (ids,),
        ).fetchone()
    return int(row[0]) if row else 0


def wait_all_ready(database_url: str, ids: list[str], timeout: float = 900) -> float:
    start = time.monotonic()
    while ready_count(database_url, ids) < len(ids):
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"only {ready_count(database_url, ids)}/{len(ids)} ready")
        time.sleep(0.1)
    return time.monotonic() - start


async def create_many(
    stack: Stack, total: int, concurrency: int, sync: bool = False
) -> tuple[list[str], Result]:
    request = grpc_request()
    if sync:
        request.async_pdf = False
    ids: list[str] = []
    metadata = (("authorization", f"Bearer {stack.token}"),)
    async with grpc.aio.insecure_channel(stack.invoice_addr) as channel:
        stub = invoice_pb2_grpc.InvoiceServiceStub(channel)

        async def call(_: int) -> bool:
            reply = await stub.CreateInvoice(request, metadata=metadata, timeout=60)
            ids.append(reply.invoice.invoice_id)
            return not sync or reply.invoice.pdf_status == pb.PDF_STATUS_READY

        result = await closed_loop(total, concurrency, call)
    return ids, result


async def create_to_ready(stack: Stack, samples: int) -> list[float]:
    """From the create call to `ready` seen by a watcher on the WatchInvoice stream (the
    push a client gets; polling every 2 ms instead loaded the invoice service and added
    to the figure), one invoice at a time."""
    request = grpc_request()
    metadata = (("authorization", f"Bearer {stack.token}"),)
    latencies = []
    async with grpc.aio.insecure_channel(stack.invoice_addr) as channel:
        stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
        for _ in range(samples):
            await asyncio.sleep(0.3)  # let the worker go idle, as on a quiet stack
            start = time.perf_counter()
            reply = await stub.CreateInvoice(request, metadata=metadata, timeout=10)
            watch = pb.WatchInvoiceRequest(invoice_id=reply.invoice.invoice_id)
            async for change in stub.WatchInvoice(watch, metadata=metadata, timeout=10):
                if change.pdf.pdf_status == pb.PDF_STATUS_READY:
                    break
            latencies.append(time.perf_counter() - start)
    return latencies


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--render-processes", default="2")
    args = parser.parse_args()
    queue = redis.Redis.from_url(REDIS_URL)
    rows: list[list[str]] = []
    with render_stack(
        ("invoice", "worker", "gateway", "renderer"),
        RENDER_PROCESSES=args.render_processes,
        WORKER_THREADS=str(int(args.render_processes) + 2),
        WORKER_POLL_MS="50",
        WORKER_MAX_TASKS_PER_CHILD="100",
    ) as stack:
        time.sleep(3)  # render processes loading fonts and templates
        warm, _ = asyncio.run(create_many(stack, 20, 4))
        wait_all_ready(stack.database_url, warm)

        idle = asyncio.run(create_to_ready(stack, 15))
        rendered = len(warm) + len(idle)
        rows.append(
            ["f. create-to-ready, idle stack, p50", ms(statistics.median(idle)), "ms", "floor + 50"]
        )
        top_up, _ = asyncio.run(create_many(stack, 200 - rendered, args.concurrency))
        wait_all_ready(stack.database_url, top_up)
        rss_200 = worker_rss_mb(stack)

        busy0 = machine_busy_seconds()
        start = time.monotonic()
        ids, _ = asyncio.run(create_many(stack, args.invoices, args.concurrency))
        during = asyncio.run(rest_creates(stack.gateway_url, stack.token, 200, 4))
        wait_all_ready(stack.database_url, ids)
        drain = time.monotonic() - start
        wait_no_render_left(stack)
        busy = machine_busy_seconds() - busy0
        per_minute = args.invoices / drain * 60
        rows.append([f"b. {args.invoices} async creates, all ready after", f"{drain:.1f}", "s", ""])
        rows.append(["b. pipeline throughput", f"{per_minute:.0f}", "invoices/min", ">= 1500"])
        rows.append(
            ["b. machine CPU per PDF", ms(busy / (args.invoices + 200)), "ms", "1.25 x floor"]
        )
        rows.append(
            [
                "d. REST create p99 while the backlog drains",
                ms(during.percentile(99)),
                "ms",
                "<= 150",
            ]
        )
        more, _ = asyncio.run(create_many(stack, 1000 - 400 - args.invoices, args.concurrency))
        wait_all_ready(stack.database_url, more)
        rss_1000 = worker_rss_mb(stack)
        rows.append(
            ["e. worker RSS (worker + render processes), 200 renders", f"{rss_200:.0f}", "MiB", ""]
        )
        rows.append(["e. the same after 1,000 renders", f"{rss_1000:.0f}", "MiB", "< +10 %"])

        _, sync = asyncio.run(create_many(stack, 40, 1, sync=True))
        rows.append(["c. sync create p50", ms(sync.percentile(50)), "ms", "floor + 30 ms"])
        rows.append(["c. sync create p99", ms(sync.percentile(99)), "ms", ""])
        if sync.errors:
            rows.append(["c. sync creates not ready in the answer", str(sync.errors), "", "0"])
    queue.flushdb()
    print_table(f"Render pipeline ({speed_probe()})", ["figure", "value", "unit", "target"], rows)


def wait_no_render_left(stack: Stack) -> None:
    """Wait until no invoice is still pending or rendering (the creates made over REST too)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with psycopg.connect(stack.database_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM invoices WHERE pdf_status IN ('pending', 'rendering')"
            ).fetchone()
        if row and row[0] == 0:
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main()
