"""A Dramatiq middleware counting and timing every task a worker process runs.

The worker is one process with worker threads (renders run in child processes of
the render pool, but the parent thread records the outcome), so the process's
default Prometheus registry holds the totals: no multiprocess mode is needed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from dramatiq import Broker, Middleware
from dramatiq.common import q_name
from prometheus_client import Counter, Histogram

TASKS = Counter("task", "Tasks processed, by outcome", ["task", "queue", "status"])
TASK_SECONDS = Histogram(
    "task_duration_seconds",
    "Time spent processing a task",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


class TaskMetrics(Middleware):
    """Counts tasks by status (succeeded, failed, skipped) and times the processed ones."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def before_process_message(self, broker: Broker, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = time.perf_counter()

    def after_process_message(
        self,
        broker: Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self._lock:
            started = self._started.pop(message.message_id, None)
        if started is not None:
            TASK_SECONDS.labels(message.actor_name).observe(time.perf_counter() - started)
        status = "succeeded" if exception is None else "failed"
        TASKS.labels(message.actor_name, q_name(message.queue_name), status).inc()

    def after_skip_message(self, broker: Broker, message: Any) -> None:
        with self._lock:
            self._started.pop(message.message_id, None)
        TASKS.labels(message.actor_name, q_name(message.queue_name), "skipped").inc()
