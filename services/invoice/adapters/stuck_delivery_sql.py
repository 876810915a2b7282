"""The sweeper's statements for deliveries and webhook events whose job was lost.

A row is abandoned when it is still `pending`, no outbox row waits to publish its job, no
live claim holds it, and its bookkeeping (`updated_at`, touched by every claim, attempt and
failure) has not moved for longer than any legitimate wait: the deadline for a row never
attempted, the deadline plus the longest retry delay (backoff or a server's Retry-After) for
one that was. Each statement touches what it requeues, so the next sweep leaves it alone
until another deadline has passed; rows locked by a worker right now are skipped.
"""

from __future__ import annotations

from sqlalchemy import text

from services.common.queues import (
    DEFAULT,
    SEND_EMAIL_ACTOR,
    SEND_WEBHOOK_ACTOR,
    SEND_WHATSAPP_ACTOR,
)
from services.invoice.adapters.outbox_sql import CHANNEL_JOBS, with_traceparent

REQUEUE_STUCK_DELIVERIES = text(
    "WITH abandoned AS ("
    " SELECT d.id FROM deliveries d JOIN invoices i ON i.id = d.invoice_pk"
    " WHERE d.status = 'pending'"
    " AND d.updated_at < CASE WHEN d.attempts = 0 THEN :cutoff ELSE :retried_cutoff END"
    " AND (d.claim IS NULL OR d.claimed_at < :lease_cutoff)"
    " AND NOT EXISTS (SELECT 1 FROM outbox o"
    f" WHERE o.actor IN ('{SEND_EMAIL_ACTOR}', '{SEND_WHATSAPP_ACTOR}')"
    " AND o.payload->>'invoice_id' = i.invoice_id AND o.payload->>'channel' = d.channel)"
    " ORDER BY d.id LIMIT :limit FOR UPDATE OF d SKIP LOCKED),"
    " touched AS ("
    " UPDATE deliveries d SET updated_at = :now FROM abandoned a, invoices i"
    " WHERE d.id = a.id AND i.id = d.invoice_pk"
    " RETURNING i.invoice_id, d.channel)"
    " INSERT INTO outbox (queue, actor, payload)"
    " SELECT jobs.queue, jobs.actor, "
    + with_traceparent(
        "jsonb_build_object('invoice_id', touched.invoice_id, 'channel', touched.channel)",
        ":traceparent",
    )
    + f" FROM touched JOIN {CHANNEL_JOBS} USING (channel)"
    " RETURNING id"
)

# Within the retry window an abandoned event gets its job again; past it (or once its
# webhook is deleted) it is given up, as its next attempt would have done.
SWEEP_STUCK_WEBHOOK_EVENTS = text(
    "WITH abandoned AS ("
    " SELECT e.id, e.created_at < :window_start AS expired, w.deleted_at IS NOT NULL AS deleted"
    " FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_pk"
    " WHERE e.status = 'pending'"
    " AND e.updated_at < CASE WHEN e.attempts = 0 THEN :cutoff ELSE :retried_cutoff END"
    " AND NOT EXISTS (SELECT 1 FROM outbox o"
    f" WHERE o.actor = '{SEND_WEBHOOK_ACTOR}' AND o.payload->>'event_id' = e.event_id)"
    " ORDER BY e.id LIMIT :limit FOR UPDATE OF e SKIP LOCKED),"
    " given_up AS ("
    " UPDATE webhook_events e SET status = 'failed', updated_at = :now,"
    " last_error = CASE WHEN a.deleted THEN 'the webhook was deleted'"
    " ELSE 'gave up: no attempt finished within the retry window' END"
    " FROM abandoned a WHERE e.id = a.id AND (a.expired OR a.deleted)"
    " RETURNING e.id),"
    " requeued AS ("
    " UPDATE webhook_events e SET updated_at = :now"
    " FROM abandoned a WHERE e.id = a.id AND NOT (a.expired OR a.deleted)"
    " RETURNING e.event_id),"
    " jobs AS ("
    " INSERT INTO outbox (queue, actor, payload)"
    f" SELECT '{DEFAULT.name}', '{SEND_WEBHOOK_ACTOR}', "
    + with_traceparent("jsonb_build_object('event_id', requeued.event_id)", ":traceparent")
    + " FROM requeued RETURNING id)"
    " SELECT (SELECT count(*) FROM jobs) AS requeued, (SELECT count(*) FROM given_up) AS given_up"
)
