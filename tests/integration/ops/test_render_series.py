"""The dashboard's per-minute render series and view, read back from a real Redis."""

from __future__ import annotations

import pytest
import redis

from services.common import operations_view, render_records

pytestmark = pytest.mark.integration
NOW = 1_800_000_030.0  # 30 s into a minute


def test_series_has_sixty_minutes_oldest_first_with_counts_and_p95_per_minute(
    redis_client: redis.Redis,
) -> None:
    for seconds in [0.1] * 19 + [3.0]:
        render_records.record_outcome(redis_client, "ready", NOW)
        render_records.record_duration(redis_client, seconds, NOW)
    render_records.record_outcome(redis_client, "failed", NOW - 60)
    for seconds in (0.2, 0.4):
        render_records.record_outcome(redis_client, "ready", NOW - 59 * 60)
        render_records.record_duration(redis_client, seconds, NOW - 59 * 60)
    render_records.record_outcome(redis_client, "ready", NOW - 60 * 60)  # an hour ago: left out

    series = render_records.minute_series(redis_client, 60, NOW)

    assert len(series) == 60
    assert [m.minute for m in series] == [int(NOW // 60 - back) * 60 for back in range(59, -1, -1)]
    this_minute, last_minute, oldest = series[-1], series[-2], series[0]
    assert (this_minute.ready, this_minute.failed) == (20, 0)
    assert 90.0 < this_minute.p95_ms <= 110.0
    assert (last_minute.ready, last_minute.failed, last_minute.p95_ms) == (0, 1, 0.0)
    assert oldest.ready == 2 and 360.0 < oldest.p95_ms <= 440.0
    assert sum(m.ready for m in series) == 22


def test_dashboard_view_holds_the_series_and_the_inspect_stats(redis_client: redis.Redis) -> None:
    render_records.record_outcome(redis_client, "ready", NOW)
    render_records.record_duration(redis_client, 0.25, NOW)
    render_records.record_outcome(redis_client, "failed", NOW)

    view = operations_view.dashboard(redis_client, heartbeat_timeout_ms=60_000, now=NOW)

    assert view["renders_last_hour"] == {"ready": 1, "failed": 1, "failure_rate": 0.5}
    assert view["queues"]["pdf_generation"] == {"ready": 0, "delayed": 0, "dead": 0}
    assert view["active_jobs"] == [] and view["failed_jobs"] == []
    last = view["renders_per_minute"][-1]
    assert last["minute"] == "2027-01-15T08:00:00Z"
    assert (last["ready"], last["failed"]) == (1, 1)
    assert 225.0 < last["p95_render_ms"] <= 275.0
    assert view["generated_at"] == "2027-01-15T08:00:30Z"
