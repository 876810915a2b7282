"""Where the CPU goes: per-process CPU time per create, or per PDF, on real processes.

Run: .venv/bin/python -m bench.cpu_by_process creates [--path rest|grpc]
     .venv/bin/python -m bench.cpu_by_process pipeline [--invoices 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import psutil

from bench.load import grpc_creates, rest_creates
from bench.pipeline import create_many, render_stack, wait_all_ready
from bench.stack import Stack, running_stack
from bench.table import print_table, speed_probe


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants, the ones already gone included
    (recycled render processes: their time is in their parent's reaped-children counters)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
    return total


def services_cpu() -> dict[str, float]:
    """CPU seconds of the machine's PostgreSQL, Redis and any moto server."""
    out: dict[str, float] = {}
    for proc in psutil.process_iter(["username", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            key = (
                "postgres"
                if proc.info["username"] == "postgres"
                else "redis"
                if "redis-server" in cmd
                else "moto"
                if "moto.server" in cmd
                else None
            )
            if key:
                times = proc.cpu_times()
                out[key] = out.get(key, 0.0) + times.user + times.system
        except psutil.Error:
            pass
    return out


def own_cpu(pid: int) -> float:
    """CPU seconds of the process itself, without its children."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def snapshot(stack: Stack) -> dict[str, float]:
    shot = {f"{role} (+children)": tree_cpu(stack.pid(role)) for role in stack.processes}
    if "worker" in stack.processes:  # the Dramatiq process apart from its render processes
        shot["  of which the worker process itself"] = own_cpu(stack.pid("worker"))
    shot.update(services_cpu())
    own = psutil.Process(os.getpid()).cpu_times()
    shot["load generator"] = own.user + own.system  # its children are the servers above
    return shot


def report(
    title: str, unit: str, before: dict[str, float], after: dict[str, float], n: int
) -> None:
    rows = [[k, f"{1000 * (after[k] - before.get(k, 0.0)) / n:.2f}"] for k in after]
    spent = sum(after[k] - before.get(k, 0.0) for k in after if not k.startswith(" "))
    rows.append(["total", f"{1000 * spent / n:.2f}"])
    print_table(title, ["process", f"CPU ms per {unit}"], rows)
    print(f"\n{speed_probe()}; load average {os.getloadavg()[0]:.2f}")


def creates(path: str, total: int) -> None:
    with running_stack(("invoice", "gateway")) as stack:
        run = (
            (lambda n: rest_creates(stack.gateway_url, stack.token, n, 32))
            if path == "rest"
            else (lambda n: grpc_creates(stack.invoice_addr, stack.token, n, 32))
        )
        asyncio.run(run(300))
        before = snapshot(stack)
        result = asyncio.run(run(total))
        after = snapshot(stack)
    report(f"{path} creates: {result.per_second:.0f}/s", "create", before, after, total)


def pipeline(total: int) -> None:
    with render_stack(
        ("invoice", "worker"),
        RENDER_PROCESSES="2",
        WORKER_THREADS="4",
    ) as stack:
        time.sleep(3)
        warm, _ = asyncio.run(create_many(stack, 20, 4))
        wait_all_ready(stack.database_url, warm)
        before = snapshot(stack)
        start = time.monotonic()
        ids, _ = asyncio.run(create_many(stack, total, 32))
        wait_all_ready(stack.database_url, ids)
        per_minute = total / (time.monotonic() - start) * 60
        after = snapshot(stack)
    report(f"pipeline: {per_minute:.0f} invoices/min", "PDF", before, after, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["creates", "pipeline"])
    parser.add_argument("--path", choices=["rest", "grpc"], default="rest")
    parser.add_argument("--total", type=int, default=None)
    args = parser.parse_args()
    if args.what == "creates":
        creates(args.path, args.total or 2000)
    else:
        pipeline(args.total or 300)


if __name__ == "__main__":
    main()
