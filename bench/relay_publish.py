"""What the outbox relay spends to send one render job: one invoice created, then one
`publish_due` (take the row, build the render request, enqueue, commit), in this process.

    .venv/bin/python -m bench.relay_publish [--samples 200]

The step of create-to-ready (bench f) between the create's answer and the job in Redis,
without the wake-up: wall and CPU time of the call, on a fresh database and Redis db 14.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import redis

from bench.pipeline import REDIS_URL
from bench.table import print_table, speed_probe
from services.invoice.bootstrap import build_app
from services.invoice.domain.rules import InvoiceDraft, LineDraft
from services.invoice.service_layer import businesses, invoices
from tests.conftest import create_database, drop_database, make_settings

DRAFT = InvoiceDraft(
    customer_name="Adébáyọ̀ Stores",
    customer_email="ade@example.com",
    currency="NGN",
    lines=[LineDraft(f"Item {n}", "2", "4500.00") for n in range(8)],
    tax_rate="7.5",
    notes="Thank you",
)


async def publish_times(database_url: str, samples: int) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) of each `publish_due` that sends one freshly created invoice's job."""
    settings = make_settings(DATABASE_URL=database_url, REDIS_URL=REDIS_URL, INTERNAL_TOKEN="x")
    app = build_app(settings)
    assert app.relay is not None
    out = []
    try:
        shop, _ = await businesses.create_business(app.unit_of_work(), "Bench Shop")
        assert shop.id is not None
        for n in range(samples + 20):
            await invoices.create_invoice(
                app.autocommit_unit_of_work(), app.creator, shop.id, DRAFT
            )
            wall, cpu = time.perf_counter(), time.process_time()
            sent = await app.relay.publish_due()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert sent == 1
            if n >= 20:  # the first ones warm the pools and caches
                out.append((wall * 1000, cpu * 1000))
    finally:
        await app.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    database_url = create_database()
    try:
        times = asyncio.run(publish_times(database_url, args.samples))
    finally:
        drop_database(database_url)
        queue.flushdb()
    walls, cpus = [t[0] for t in times], [t[1] for t in times]
    print_table(
        f"Outbox relay, one render job per publish, {len(times)} samples",
        ["", "p50 ms", "p90 ms", "min ms"],
        [
            [
                name,
                f"{statistics.median(v):.2f}",
                f"{statistics.quantiles(v, n=10)[-1]:.2f}",
                f"{min(v):.2f}",
            ]
            for name, v in (("wall", walls), ("CPU of this process", cpus))
        ],
    )
    print(f"\n{speed_probe()}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
