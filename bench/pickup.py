"""How long an idle worker takes to start a job after it is enqueued: Dramatiq's polling
consumer against the waking one (services/common/queue_wakeup.py), on the local Redis.

    .venv/bin/python -m bench.pickup [--samples 40] [--poll-ms 50]

The part of create-to-ready (bench f) that is spent waiting for the worker to notice the job.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from bench.table import print_table, speed_probe
from services.common.queue_wakeup import WakingRedisBroker

REDIS_URL = os.environ.get("SUOOPS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
QUEUE = "bench_pickup"


def pickup_ms(broker_class: type[RedisBroker], samples: int, poll_ms: int) -> list[float]:
    """Enqueue-to-start latencies of a no-op job on an idle one-thread worker."""
    client = redis.Redis.from_url(REDIS_URL)
    broker = broker_class(client=client, namespace="bench-pickup")
    started = threading.Event()

    @dramatiq.actor(broker=broker, actor_name="bench_noop", queue_name=QUEUE)
    def noop() -> None:
        started.set()

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=poll_ms)
    worker.start()
    latencies = []
    try:
        for _ in range(samples):
            time.sleep(0.3 + poll_ms / 1000)  # idle: the consumer is back at its full poll wait
            started.clear()
            sent = time.perf_counter()
            noop.send()
            if not started.wait(10):
                raise TimeoutError("the worker never started the job")
            latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        worker.stop(timeout=5_000)
        broker.close()
        for key in client.scan_iter("bench-pickup:*"):
            client.delete(key)
        client.close()
    return latencies


def main() -> None:
    """Measure both consumers, interleaved in blocks, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--poll-ms", type=int, default=50)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"Dramatiq's polling consumer": [], "waking consumer": []}
    classes = {"Dramatiq's polling consumer": RedisBroker, "waking consumer": WakingRedisBroker}
    for _ in range(2):
        for name, broker_class in classes.items():
            results[name] += pickup_ms(broker_class, args.samples // 2, args.poll_ms)
    rows = []
    for name, values in results.items():
        ordered = sorted(values)
        rows.append(
            [
                name,
                str(len(values)),
                f"{statistics.median(ordered):.1f}",
                f"{ordered[int(0.9 * (len(ordered) - 1))]:.1f}",
                f"{ordered[-1]:.1f}",
            ]
        )
    print_table(
        f"Idle pick-up, WORKER_POLL_MS={args.poll_ms}: enqueue to job start, ms",
        ["consumer", "jobs", "p50", "p90", "max"],
        rows,
    )
    print(f"\n{speed_probe()}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
