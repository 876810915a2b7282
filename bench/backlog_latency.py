"""REST creates while a render backlog drains, with the render processes at two CPU priorities.

    .venv/bin/python -m bench.backlog_latency [--rounds 2] [--nice 0 10]

For each RENDER_NICE in turn (alternating, `--rounds` times): a fresh stack (invoice service,
one worker, gateway), 500 async creates over gRPC at concurrency 32 and, starting half a second
later, 600 REST creates at concurrency 4 while the renders drain. Prints the REST latencies
and how fast the 500 PDFs were ready. A heavier load than bench d, which starts its REST
creates only once the gRPC creates are all in.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.load import Result, rest_creates
from bench.pipeline import create_many, render_stack, wait_all_ready
from bench.stack import Stack
from bench.table import print_table, speed_probe


async def creates_during_backlog(stack: Stack) -> tuple[list[str], Result]:
    backlog = asyncio.create_task(create_many(stack, 500, 32))
    await asyncio.sleep(0.5)
    during = await rest_creates(stack.gateway_url, stack.token, 600, 4)
    ids, _ = await backlog
    return ids, during


def one_run(nice: int) -> list[str]:
    with render_stack(
        ("invoice", "worker", "gateway"),
        RENDER_PROCESSES="2",
        WORKER_THREADS="4",
        RENDER_NICE=str(nice),
    ) as stack:
        time.sleep(3)  # render processes loading fonts and templates
        warm, _ = asyncio.run(create_many(stack, 50, 8))
        wait_all_ready(stack.database_url, warm)
        start = time.monotonic()
        ids, during = asyncio.run(creates_during_backlog(stack))
        wait_all_ready(stack.database_url, ids)
        drain = time.monotonic() - start
    return [
        str(nice),
        *(f"{during.percentile(p) * 1000:.0f}" for p in (50, 95, 99, 100)),
        f"{len(ids) / drain * 60:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--nice", type=int, nargs="+", default=[0, 10])
    args = parser.parse_args()
    rows = [one_run(nice) for _ in range(args.rounds) for nice in args.nice]
    print_table(
        "REST creates (ms) while 500 renders drain, by the render processes' RENDER_NICE",
        ["RENDER_NICE", "p50", "p95", "p99", "max", "500 PDFs ready, per minute"],
        rows,
    )
    print(f"\n{speed_probe()}")


if __name__ == "__main__":
    main()
