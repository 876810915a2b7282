"""The monthly tax report's place in the schedule, and its settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.settings import SettingsError
from services.scheduler.main import scheduled_jobs
from services.scheduler.schedules import Monthly
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


def _monthly(**env: str) -> Monthly:
    (job,) = [j for j in scheduled_jobs(make_settings(**env)) if j.name == "monthly_tax_reports"]
    assert isinstance(job.schedule, Monthly)
    return job.schedule


def test_tax_reports_are_due_on_the_first_at_two_utc_for_the_month_before() -> None:
    schedule = _monthly()
    assert schedule == Monthly(day=1, hour=2)
    assert schedule.period(datetime(2026, 12, 1, 1, 59, tzinfo=UTC)) is None
    assert schedule.period(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)) == "2026-11"
    assert schedule.period(datetime(2027, 1, 1, 2, 0, tzinfo=UTC)) == "2026-12"


def test_the_day_and_hour_of_the_tax_reports_are_settings() -> None:
    assert _monthly(TAX_REPORT_DAY="3", TAX_REPORT_HOUR="0") == Monthly(day=3, hour=0)


@pytest.mark.parametrize(("day", "hour"), [("0", "2"), ("29", "2"), ("1", "24"), ("1", "-1")])
def test_a_day_some_month_lacks_or_an_hour_off_the_clock_is_refused_at_start(
    day: str, hour: str
) -> None:
    with pytest.raises(SettingsError, match="TAX_REPORT_DAY"):
        make_settings(TAX_REPORT_DAY=day, TAX_REPORT_HOUR=hour)
