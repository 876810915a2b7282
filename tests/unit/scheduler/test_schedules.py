"""Each scheduled job fires once per period, and again after a failed call."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from services.scheduler.main import Scheduler
from services.scheduler.schedules import Every, Monthly, ScheduledJob

pytestmark = pytest.mark.unit


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_every_names_the_interval_it_is_in() -> None:
    assert Every(60).period(at("2026-11-28T14:05:59")) == "2026-11-28T14:05:00"
    assert Every(60).period(at("2026-11-28T14:06:00")) == "2026-11-28T14:06:00"
    assert Every(3600).period(at("2026-11-28T14:59:00")) == "2026-11-28T14:00:00"


def test_monthly_is_due_from_the_first_at_two_for_the_month_before() -> None:
    monthly = Monthly(day=1, hour=2)
    assert monthly.period(at("2026-12-01T01:59:59")) is None
    assert monthly.period(at("2026-12-01T02:00:00")) == "2026-11"
    assert monthly.period(at("2026-12-17T09:00:00")) == "2026-11"
    assert monthly.period(at("2027-01-01T02:00:00")) == "2026-12"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _Unavailable(grpc.RpcError):
    pass


def test_a_job_fires_once_per_period_and_retries_after_an_error() -> None:
    calls: list[tuple[str, str]] = []
    failing = {"on": True}

    def run(job: str, period: str) -> tuple[bool, str]:
        calls.append((job, period))
        if failing["on"]:
            raise _Unavailable()
        return True, "ok"

    clock = FakeClock(at("2026-11-28T14:05:10"))
    scheduler = Scheduler((ScheduledJob("sweep", Every(60)),), run, clock)
    scheduler.tick()
    failing["on"] = False
    scheduler.tick()  # same period, tried again because the first call failed
    scheduler.tick()  # same period, done: not called
    clock.now = at("2026-11-28T14:06:01")
    scheduler.tick()
    assert calls == [
        ("sweep", "2026-11-28T14:05:00"),
        ("sweep", "2026-11-28T14:05:00"),
        ("sweep", "2026-11-28T14:06:00"),
    ]
