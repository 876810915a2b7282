"""`queue_depth{queue,state}`: read from Redis each time Prometheus scrapes."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.common.broker_state import queue_depths

log = logging.getLogger(__name__)


class QueueDepthCollector(Collector):
    """Ready, delayed and dead messages per queue; a scrape while Redis is down omits them."""

    def __init__(self, client: redis.Redis, queues: Sequence[str]) -> None:
        self._client = client
        self._queues = tuple(queues)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The metric's name, so registering it reads nothing from Redis."""
        yield _family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = _family()
        try:
            for queue in self._queues:
                for state, count in queue_depths(self._client, queue).items():
                    family.add_metric([queue, state], count)
        except redis.RedisError as exc:
            # The endpoint still answers with every other metric; the gap shows Redis is away.
            log.warning("queue depth unavailable", extra={"error": repr(exc)})
            return
        yield family


def _family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "queue_depth", "Messages in a work queue by state", labels=["queue", "state"]
    )
