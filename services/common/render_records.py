"""What the workers note in Redis about renders, for `suoops inspect`: outcomes per minute
(kept two hours) and each invoice's last render error (kept as long as a dead letter)."""

from __future__ import annotations

import json
import time
from typing import Any

import redis

PREFIX = "suoops:renders"
OUTCOMES = ("ready", "failed")
MINUTE_TTL_SECONDS = 2 * 3600
ERROR_TTL_SECONDS = 7 * 24 * 3600  # Dramatiq's dead-letter TTL


def minute_key(outcome: str, epoch_seconds: float) -> str:
    """The counter of one outcome in one UTC minute."""
    return f"{PREFIX}:{outcome}:{int(epoch_seconds // 60)}"


def error_key(invoice_id: str) -> str:
    return f"{PREFIX}:error:{invoice_id}"


def record_outcome(client: redis.Redis, outcome: str, now: float | None = None) -> None:
    """Count a render that ended ready or failed (for good) in this minute."""
    key = minute_key(outcome, time.time() if now is None else now)
    pipe = client.pipeline(transaction=False)
    pipe.incr(key)
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
