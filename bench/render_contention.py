"""Does a render cost more CPU when the other core is busy, or inside the render pool?

    .venv/bin/python -m bench.render_contention [--renders 60]

Three ways of rendering the standard invoice, CPU time per render (the render process's own):
one warm renderer in this process alone; the same in two processes at once (both cores
rendering, as in the pipeline); and through a one-process RenderPool (pipe, protobuf,
fork server), alone. The pipeline's render processes took 57 ms per PDF where the floor
was 42 ms: the second row shows what the busy machine adds, the third what the pool adds.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from typing import Any

import psutil

from bench.table import print_table, speed_probe
from services.common.settings import Settings
from services.renderer.render_pool import RenderPool
from services.renderer.samples import sample_invoice


def cpu_per_render(renders: int, start: Any = None) -> float:
    """Median CPU ms of one render in a warm renderer in this process."""
    from services.renderer.pdf import InvoicePdfRenderer

    renderer, invoice = InvoicePdfRenderer(), sample_invoice()
    for _ in range(5):
        renderer.render(invoice)
    if start is not None:
        start.wait()
    times = []
    for _ in range(renders):
        cpu = time.process_time()
        renderer.render(invoice)
        times.append((time.process_time() - cpu) * 1000)
    return statistics.median(times)


def _child(renders: int, start: Any, out: Any) -> None:
    out.put(cpu_per_render(renders, start))


def two_at_once(renders: int) -> list[float]:
    """Median CPU ms per render of two processes rendering at the same time."""
    context = multiprocessing.get_context("spawn")
    start, out = context.Event(), context.Queue()
    procs = [context.Process(target=_child, args=(renders, start, out)) for _ in range(2)]
    for proc in procs:
        proc.start()
    time.sleep(8)  # both warm
    start.set()
    results = [out.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join()
    return results


def through_pool(renders: int) -> float:
    """Mean CPU ms per render of the pool's render process (psutil), over `renders` renders."""
    settings = Settings.from_env()
    pool = RenderPool(
        1,
        settings.renderer_factory,
        soft_limit=60,
        hard_limit=120,
        max_renders_per_child=10_000,
    )
    try:
        invoice = sample_invoice()
        for _ in range(5):
            pool.render(invoice)
        (pid,) = pool.pids()
        child = psutil.Process(pid)
        before = child.cpu_times()
        for _ in range(renders):
            pool.render(invoice)
        after = child.cpu_times()
        return (after.user + after.system - before.user - before.system) * 1000 / renders
    finally:
        pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=60)
    args = parser.parse_args()
    alone = cpu_per_render(args.renders)
    pair = two_at_once(args.renders)
    pooled = through_pool(args.renders)
    alone_again = cpu_per_render(args.renders)
    print_table(
        f"CPU per render of the standard invoice, median of {args.renders}",
        ["how", "CPU ms per render"],
        [
            ["one process alone (before / after the others)", f"{alone:.1f} / {alone_again:.1f}"],
            ["two processes at once, each", " / ".join(f"{p:.1f}" for p in pair)],
            ["through a one-process RenderPool, alone (mean)", f"{pooled:.1f}"],
        ],
    )
    print(f"\n{speed_probe()}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
