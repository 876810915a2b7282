"""The task middleware counts and times tasks from the message alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.common.task_metrics import TaskMetrics

pytestmark = pytest.mark.unit


@dataclass
class StubMessage:
    message_id: str
    actor_name: str = "unit_test_actor"
    queue_name: str = "unit_test_queue"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_processed_tasks_are_counted_by_status_and_timed() -> None:
    middleware = TaskMetrics()
    broker: Any = None
    before_ok = sample(
        "task_total", task="unit_test_actor", queue="unit_test_queue", status="succeeded"
    )
    before_failed = sample(
        "task_total", task="unit_test_actor", queue="unit_test_queue", status="failed"
    )
    timed = sample("task_duration_seconds_count", task="unit_test_actor")
    ok, failing = StubMessage("m1"), StubMessage("m2", queue_name="unit_test_queue.DQ")
    middleware.before_process_message(broker, ok)
    middleware.after_process_message(broker, ok, result=None)
    middleware.before_process_message(broker, failing)
    middleware.after_process_message(broker, failing, exception=RuntimeError("boom"))
    assert (
        sample("task_total", task="unit_test_actor", queue="unit_test_queue", status="succeeded")
        == before_ok + 1
    )
    # A retry fetched from the delay queue counts under its queue's own name.
    assert (
        sample("task_total", task="unit_test_actor", queue="unit_test_queue", status="failed")
        == before_failed + 1
    )
    assert sample("task_duration_seconds_count", task="unit_test_actor") == timed + 2


def test_skipped_task_is_counted_but_not_timed() -> None:
    middleware = TaskMetrics()
    broker: Any = None
    labels = {"task": "unit_skipped_actor", "queue": "unit_test_queue", "status": "skipped"}
    message = StubMessage("m3", actor_name="unit_skipped_actor")
    middleware.before_process_message(broker, message)
    middleware.after_skip_message(broker, message)
    assert sample("task_total", **labels) == 1
    assert sample("task_duration_seconds_count", task="unit_skipped_actor") == 0
