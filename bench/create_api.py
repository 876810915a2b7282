"""Benchmark: invoice creates over REST and gRPC against real processes (issue 2).

Run: .venv/bin/python -m bench.create_api [--total 2000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio

from bench.load import Result, grpc_creates, rest_creates
from bench.stack import running_stack
from bench.table import print_table, speed_probe


def row(name: str, result: Result, target: str) -> list[str]:
    ms = [f"{result.percentile(p) * 1000:.1f}" for p in (50, 95, 99)]
    return [
        name,
        str(len(result.latencies)),
        str(result.errors),
        *ms,
        f"{result.per_second:.0f}",
        target,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with running_stack(("invoice", "gateway")) as stack:
        # A short warm-up of each path so import and pool set-up costs are not measured.
        asyncio.run(rest_creates(stack.gateway_url, stack.token, 200, args.concurrency))
        rest = asyncio.run(
            rest_creates(stack.gateway_url, stack.token, args.total, args.concurrency)
        )
        grpc_result = asyncio.run(
            grpc_creates(stack.invoice_addr, stack.token, args.total, args.concurrency)
        )
    probe = speed_probe()
    print_table(
        f"Invoice creates: {args.total} requests at concurrency {args.concurrency} ({probe})",
        ["path", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "creates/s", "target"],
        [
            row("REST POST /invoices/", rest, "p99 <= 50 ms, >= 300/s"),
            row("gRPC CreateInvoice", grpc_result, ">= 600/s"),
        ],
    )


if __name__ == "__main__":
    main()
