"""When a periodic job is due, named by the period it covers (each period runs once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Every:
    """Once in every interval of `seconds`, aligned to the epoch: 60 → every UTC minute."""

    seconds: int

    def period(self, now: datetime) -> str | None:
        start = int(now.timestamp()) // self.seconds * self.seconds
        return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Monthly:
    """Once a month, from `day` at `hour`:00 UTC; the period is the month before ("2026-10")."""

    day: int = 1
    hour: int = 2

    def period(self, now: datetime) -> str | None:
        now = now.astimezone(UTC)
        if (now.day, now.hour) < (self.day, self.hour):
            return None
        year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
        return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class ScheduledJob:
    """A job the invoice service knows by name, and when it is due."""

    name: str
    schedule: Every | Monthly
