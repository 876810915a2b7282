"""Read Dramatiq's Redis layout (see dramatiq/brokers/redis/dispatch.lua) without a broker.

Per queue Q under the namespace: `Q` (list of ready message ids), `Q.msgs` (hash: id to
the encoded message), `Q.DQ` and `Q.DQ.msgs` (delayed messages, the same shape), `Q.XQ`
(sorted set of dead message ids, scored by the time they died) and `Q.XQ.msgs`. A
worker holds the ids it fetched in the set `__acks__.<worker id>.<Q or Q.DQ>` until it
acks them, and beats in the sorted set `__heartbeats__` (score: milliseconds).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis

from services.common.queues import BROKER_NAMESPACE, dead_key, delayed_key, ready_key

STATES = ("ready", "delayed", "dead")


@dataclass(frozen=True)
class BrokerMessage:
    """One message as Redis stores it, and the worker holding it (if any)."""

    redis_id: str
    queue: str
    actor: str
    args: list[Any]
    options: dict[str, Any]
    timestamp_ms: int
    worker_id: str = ""
    dead_since_ms: int = 0


def heartbeats_key(namespace: str = BROKER_NAMESPACE) -> str:
    return f"{namespace}:__heartbeats__"


def acks_key(worker_id: str, queue: str, namespace: str = BROKER_NAMESPACE) -> str:
    """The set of message ids a worker fetched from `queue` (or its `.DQ`) and not yet acked."""
    return f"{namespace}:__acks__.{worker_id}.{queue}"


def decode_message(redis_id: str, data: bytes | str, **extra: Any) -> BrokerMessage:
    """A stored message (Dramatiq's JSON encoding) as a BrokerMessage."""
    fields = json.loads(data)
    return BrokerMessage(
        redis_id=redis_id,
        queue=str(fields.get("queue_name", "")),
        actor=str(fields.get("actor_name", "")),
        args=list(fields.get("args", [])),
        options=dict(fields.get("options", {})),
        timestamp_ms=int(fields.get("message_timestamp", 0)),
        **extra,
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def worker_heartbeats(client: redis.Redis, namespace: str = BROKER_NAMESPACE) -> dict[str, int]:
    """Every worker id Redis remembers, with its last heartbeat in milliseconds."""
    beats: list[tuple[bytes, float]] = client.zrange(  # type: ignore[assignment]
        heartbeats_key(namespace), 0, -1, withscores=True
    )
    return {_text(worker): int(score) for worker, score in beats}


def workers_alive(
    client: redis.Redis,
    timeout_ms: int,
    now_ms: int | None = None,
    namespace: str = BROKER_NAMESPACE,
) -> int:
    """Workers whose last heartbeat is within the broker's heartbeat timeout."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return sum(
        1 for beat in worker_heartbeats(client, namespace).values() if beat > now_ms - timeout_ms
    )


def queue_depths(
    client: redis.Redis, queue: str, namespace: str = BROKER_NAMESPACE
) -> dict[str, int]:
    """Messages waiting (ready), waiting for their retry time (delayed) and dead in a queue.

    A worker fetches delayed messages early and holds them until their time, so
    delayed counts the `.DQ` list and the delayed ids every worker holds.
    """
    workers = list(worker_heartbeats(client, namespace))
    pipe = client.pipeline(transaction=False)
    pipe.llen(ready_key(queue, namespace))
    pipe.llen(delayed_key(queue, namespace))
    pipe.zcard(dead_key(queue, namespace))
    for worker in workers:
        pipe.scard(acks_key(worker, f"{queue}.DQ", namespace))
    ready, delayed, dead, *held = pipe.execute()
    return {"ready": int(ready), "delayed": int(delayed) + sum(held), "dead": int(dead)}


def active_messages(
    client: redis.Redis, queue: str, namespace: str = BROKER_NAMESPACE
) -> list[BrokerMessage]:
    """Messages workers have taken from the queue and not yet acked: running or about to."""
    found: list[BrokerMessage] = []
    messages_key = f"{ready_key(queue, namespace)}.msgs"
    for worker in worker_heartbeats(client, namespace):
        ids = sorted(_text(i) for i in client.smembers(acks_key(worker, queue, namespace)))
        if not ids:
            continue
        for redis_id, data in zip(ids, client.hmget(messages_key, ids), strict=True):
            if data is not None:
                found.append(decode_message(redis_id, data, worker_id=worker))
    return found


def dead_letters(
    client: redis.Redis, queue: str, namespace: str = BROKER_NAMESPACE
) -> list[BrokerMessage]:
    """The queue's dead messages, oldest first, with the time each died."""
    entries: list[tuple[bytes, float]] = client.zrange(  # type: ignore[assignment]
        dead_key(queue, namespace), 0, -1, withscores=True
    )
    if not entries:
        return []
    ids = [_text(i) for i, _ in entries]
    datas = client.hmget(f"{dead_key(queue, namespace)}.msgs", ids)
    return [
        decode_message(redis_id, data, dead_since_ms=int(score))
        for redis_id, data, (_, score) in zip(ids, datas, entries, strict=True)
        if data is not None
    ]


def remove_dead_letters(
    client: redis.Redis, queue: str, redis_ids: list[str], namespace: str = BROKER_NAMESPACE
) -> int:
    """Delete dead messages (they were queued again another way); returns how many went."""
    if not redis_ids:
        return 0
    pipe = client.pipeline(transaction=True)
    pipe.zrem(dead_key(queue, namespace), *redis_ids)
    pipe.hdel(f"{dead_key(queue, namespace)}.msgs", *redis_ids)
    removed, _ = pipe.execute()
    return int(removed)
