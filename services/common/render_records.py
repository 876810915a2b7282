"""What the workers note in Redis about renders, for `suoops inspect` and the dashboard:
outcomes per minute and render times per minute (kept two hours), and each invoice's last
render error (kept as long as a dead letter).

Render times are counted in geometric buckets (each bound 10% above the last) per minute,
so memory stays small at any render rate and a percentile is exact to within one bucket.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

import redis

PREFIX = "suoops:renders"
OUTCOMES = ("ready", "failed")
MINUTE_TTL_SECONDS = 2 * 3600
ERROR_TTL_SECONDS = 7 * 24 * 3600  # Dramatiq's dead-letter TTL
BUCKET_GROWTH = 1.1  # bucket i holds times in (GROWTH ** (i - 1), GROWTH ** i] milliseconds


def minute_key(outcome: str, epoch_seconds: float) -> str:
    """The counter of one outcome in one UTC minute."""
    return f"{PREFIX}:{outcome}:{int(epoch_seconds // 60)}"


def durations_key(epoch_seconds: float) -> str:
    """The hash of render-time bucket counts in one UTC minute."""
    return f"{PREFIX}:ms:{int(epoch_seconds // 60)}"


def bucket_of(milliseconds: float) -> int:
    """The index of the bucket a render time falls in (times under 1 ms share bucket 0)."""
    if milliseconds <= 1:
        return 0
    index = math.ceil(math.log(milliseconds) / math.log(BUCKET_GROWTH))
    # Rounding can put an exact bound one bucket high; the bound belongs to its own bucket.
    return index - 1 if BUCKET_GROWTH ** (index - 1) >= milliseconds else index


def error_key(invoice_id: str) -> str:
    return f"{PREFIX}:error:{invoice_id}"


def record_outcome(client: redis.Redis, outcome: str, now: float | None = None) -> None:
    """Count a render that ended ready or failed (for good) in this minute."""
    key = minute_key(outcome, time.time() if now is None else now)
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, MINUTE_TTL_SECONDS)
    pipe.execute()


def record_duration(client: redis.Redis, seconds: float, now: float | None = None) -> None:
    """Count a ready render's time in this minute's buckets."""
    key = durations_key(time.time() if now is None else now)
    pipe = client.pipeline(transaction=False)
    pipe.hincrby(key, str(bucket_of(seconds * 1000)), 1)
    pipe.expire(key, MINUTE_TTL_SECONDS)
    pipe.execute()


def record_error(
    client: redis.Redis, invoice_id: str, error: str, attempt: int, now: float | None = None
) -> None:
    """Remember the invoice's latest failed attempt."""
    at = time.time() if now is None else now
    record = {"error": error, "attempt": attempt, "at": at}
    client.set(error_key(invoice_id), json.dumps(record), ex=ERROR_TTL_SECONDS)


def outcomes_since(
    client: redis.Redis, minutes: int = 60, now: float | None = None
) -> dict[str, int]:
    """Renders that ended ready and failed in the last `minutes` minutes (this one included)."""
    now = time.time() if now is None else now
    starts = [now - 60 * back for back in range(minutes)]
    totals = {}
    for outcome in OUTCOMES:
        counts = client.mget([minute_key(outcome, at) for at in starts])
        totals[outcome] = sum(int(c) for c in counts if c is not None)
    return totals


def last_errors(client: redis.Redis, invoice_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest recorded failure of each invoice that has one."""
    if not invoice_ids:
        return {}
    values = client.mget([error_key(i) for i in invoice_ids])
    return {i: json.loads(v) for i, v in zip(invoice_ids, values, strict=True) if v is not None}


def percentile_ms(buckets: dict[int, int], fraction: float) -> float:
    """The `fraction` percentile (0.95 for p95) of bucketed render times, interpolated
    within its bucket as Prometheus's histogram_quantile does; 0.0 with no renders."""
    total = sum(buckets.values())
    if total == 0:
        return 0.0
    rank = fraction * total
    seen = 0
    for index in sorted(buckets):
        count = buckets[index]
        if count and seen + count >= rank:
            upper = BUCKET_GROWTH**index
            lower = 0.0 if index == 0 else BUCKET_GROWTH ** (index - 1)
            return lower + (upper - lower) * (rank - seen) / count
        seen += count
    return BUCKET_GROWTH ** max(buckets)


@dataclass(frozen=True)
class MinuteRenders:
    """Renders that ended in one UTC minute, and the p95 time of the ready ones."""

    minute: int  # Unix seconds at the start of the minute
    ready: int
    failed: int
    p95_ms: float


def minute_series(
    client: redis.Redis, minutes: int = 60, now: float | None = None
) -> list[MinuteRenders]:
    """One entry per minute for the last `minutes` minutes (this one included), oldest first."""
    now = time.time() if now is None else now
    starts = [int(now // 60 - back) * 60 for back in range(minutes - 1, -1, -1)]
    pipe = client.pipeline(transaction=False)
    for outcome in OUTCOMES:
        pipe.mget([minute_key(outcome, at) for at in starts])
    for at in starts:
        pipe.hgetall(durations_key(at))
    ready, failed, *durations = pipe.execute()
    return [
        MinuteRenders(
            minute=at,
            ready=int(ready[i] or 0),
            failed=int(failed[i] or 0),
            p95_ms=percentile_ms({int(k): int(v) for k, v in durations[i].items()}, 0.95),
        )
        for i, at in enumerate(starts)
    ]
