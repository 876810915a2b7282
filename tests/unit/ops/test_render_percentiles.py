"""Render times in geometric buckets, and the p95 read back from them."""

from __future__ import annotations

import pytest

from services.common.render_records import BUCKET_GROWTH, bucket_of, durations_key, percentile_ms

pytestmark = pytest.mark.unit


def buckets_of(*times_ms: float) -> dict[int, int]:
    counts: dict[int, int] = {}
    for ms in times_ms:
        counts[bucket_of(ms)] = counts.get(bucket_of(ms), 0) + 1
    return counts


@pytest.mark.parametrize("ms", [1.5, 9.9, 100.0, 123.4, 950.0, 4_321.0, 290_000.0])
def test_each_time_falls_in_the_bucket_whose_bounds_hold_it(ms: float) -> None:
    index = bucket_of(ms)
    assert BUCKET_GROWTH ** (index - 1) < ms <= BUCKET_GROWTH**index


def test_times_of_a_millisecond_or_less_share_the_first_bucket() -> None:
    assert bucket_of(0.0) == bucket_of(0.4) == bucket_of(1.0) == 0


def test_p95_of_one_slow_render_in_twenty_stays_with_the_fast_ones() -> None:
    p95 = percentile_ms(buckets_of(*[100.0] * 19, 5_000.0), 0.95)
    assert 90.0 < p95 <= 100.0 * BUCKET_GROWTH


def test_p95_of_two_slow_renders_in_twenty_is_the_slow_time_within_a_bucket() -> None:
    p95 = percentile_ms(buckets_of(*[100.0] * 18, 5_000.0, 5_000.0), 0.95)
    assert 5_000.0 / BUCKET_GROWTH < p95 <= 5_000.0 * BUCKET_GROWTH


def test_p95_is_within_ten_percent_of_the_exact_value_over_a_spread() -> None:
    times = [float(ms) for ms in range(10, 2010, 10)]  # 10 ms to 2 s, evenly
    exact = sorted(times)[int(0.95 * len(times)) - 1]
    assert abs(percentile_ms(buckets_of(*times), 0.95) - exact) / exact < 0.1


def test_no_renders_have_a_p95_of_zero() -> None:
    assert percentile_ms({}, 0.95) == 0.0


def test_render_times_are_keyed_by_minute() -> None:
    assert durations_key(120.0) == durations_key(179.9) == "suoops:renders:ms:2"
