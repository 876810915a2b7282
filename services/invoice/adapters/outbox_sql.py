"""SQL pieces for statements that write outbox rows themselves (inside one CTE or INSERT)."""

from __future__ import annotations

from services.common.queues import (
    EMAIL_SENDING,
    SEND_EMAIL_ACTOR,
    SEND_WHATSAPP_ACTOR,
    WHATSAPP_SENDING,
)

# Each delivery channel's queue and actor, as a table to join deliveries to their jobs.
CHANNEL_JOBS = (
    f"(VALUES ('email', '{EMAIL_SENDING.name}', '{SEND_EMAIL_ACTOR}'),"
    f" ('whatsapp', '{WHATSAPP_SENDING.name}', '{SEND_WHATSAPP_ACTOR}'))"
    " AS jobs(channel, queue, actor)"
)


def with_traceparent(payload_sql: str, param: str) -> str:
    """A jsonb payload expression that also carries the queuing call's trace, when it has one.

    `param` is the statement's placeholder for `current_traceparent()` (`:traceparent` for
    SQLAlchemy, `%(traceparent)s` for psycopg); the relay moves it into the message options.
    """
    return (
        f"{payload_sql} || CASE WHEN CAST({param} AS text) IS NULL THEN '{{}}'::jsonb"
        f" ELSE jsonb_build_object('traceparent', CAST({param} AS text)) END"
    )
