"""Puts jobs on the Dramatiq queues in Redis, and reads how deep a queue is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

from services.common.queues import ready_key


@dataclass(frozen=True)
class Job:
    """One Dramatiq message to send: an actor on a queue with its arguments."""

    queue: str
    actor: str
    args: tuple[Any, ...]
    options: dict[str, Any] = field(default_factory=dict)


class DramatiqPublisher:
    """Enqueues jobs through the broker, so any Dramatiq worker can consume them."""

    def __init__(self, broker: RedisBroker) -> None:
        self._broker = broker

    def publish(self, jobs: list[Job]) -> None:
        """Enqueue every job; raises if Redis cannot be reached (the caller keeps them)."""
        for job in jobs:
            self._broker.declare_queue(job.queue)
            self._broker.enqueue(
                Message(
                    queue_name=job.queue,
                    actor_name=job.actor,
                    args=job.args,
                    kwargs={},
                    options=dict(job.options),
                )
            )

    def depth(self, queue: str) -> int:
        """Messages waiting on the queue now."""
        return int(self._broker.client.llen(ready_key(queue)))
