"""SQL pieces for statements that write outbox rows themselves (inside one CTE or INSERT)."""

from __future__ import annotations


def with_traceparent(payload_sql: str, param: str) -> str:
    """A jsonb payload expression that also carries the queuing call's trace, when it has one.

    `param` is the statement's placeholder for `current_traceparent()` (`:traceparent` for
    SQLAlchemy, `%(traceparent)s` for psycopg); the relay moves it into the message options.
    """
    return (
        f"{payload_sql} || CASE WHEN CAST({param} AS text) IS NULL THEN '{{}}'::jsonb"
        f" ELSE jsonb_build_object('traceparent', CAST({param} AS text)) END"
    )
