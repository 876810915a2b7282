"""The delivery sweep's place in the schedule, and the thresholds it is given."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.settings import SettingsError
from services.delivery.actors import MAX_RETRY_AFTER_MS
from services.invoice.entrypoints.maintenance_servicer import maintenance_policy
from services.invoice.service_layer import maintenance
from services.scheduler.main import scheduled_jobs
from services.scheduler.schedules import Every
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


def test_deliveries_are_swept_on_the_render_sweep_interval() -> None:
    jobs = {
        job.name: job.schedule for job in scheduled_jobs(make_settings(SWEEP_INTERVAL_SECONDS="7"))
    }
    assert jobs["sweep_stuck_deliveries"] == Every(7) == jobs["sweep_stuck_renders"]
    assert "sweep_stuck_deliveries" in maintenance.JOBS


def test_the_sweep_waits_out_the_longest_retry_after_a_worker_honours() -> None:
    assert timedelta(milliseconds=MAX_RETRY_AFTER_MS) == maintenance.LONGEST_RETRY_AFTER


def test_the_policy_gives_attempted_rows_the_longest_backoff_or_retry_after() -> None:
    policy = maintenance_policy(
        make_settings(
            DELIVERY_STUCK_AFTER_SECONDS="120",
            DELIVERY_CLAIM_LEASE_SECONDS="60",
            DELIVERY_MAX_BACKOFF_MS="1000",
            WEBHOOK_MAX_BACKOFF_MS=str(3 * 3_600_000),
            WEBHOOK_RETRY_WINDOW_HOURS="12",
        )
    )
    assert policy.delivery_stuck_after == timedelta(minutes=2)
    assert policy.delivery_claim_lease == timedelta(minutes=1)
    assert policy.delivery_retry_wait == maintenance.LONGEST_RETRY_AFTER
    assert policy.webhook_retry_wait == timedelta(hours=3)
    assert policy.webhook_retry_window == timedelta(hours=12)


@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_a_delivery_stuck_deadline_that_is_not_a_positive_number_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="DELIVERY_STUCK_AFTER_SECONDS"):
        make_settings(DELIVERY_STUCK_AFTER_SECONDS=value)
