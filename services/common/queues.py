"""The Dramatiq queues of CONTRACT §4 and the Redis keys the broker keeps them under."""

from __future__ import annotations

from dataclasses import dataclass

# Dramatiq's RedisBroker default namespace: every queue key starts with it.
BROKER_NAMESPACE = "dramatiq"


@dataclass(frozen=True)
class Queue:
    """One work queue with its contract priority (lower runs first)."""

    name: str
    priority: int


DEFAULT = Queue("default", 5)
PDF_GENERATION = Queue("pdf_generation", 3)
EMAIL_SENDING = Queue("email_sending", 7)
WHATSAPP_SENDING = Queue("whatsapp_sending", 7)
ALL_QUEUES = (DEFAULT, PDF_GENERATION, EMAIL_SENDING, WHATSAPP_SENDING)

# Actor names: the invoice service enqueues by name, the workers register under it.
RENDER_INVOICE_ACTOR = "render_invoice"
RENDER_RETRIES_EXHAUSTED_ACTOR = "render_retries_exhausted"
SEND_EMAIL_ACTOR = "send_email"
SEND_WHATSAPP_ACTOR = "send_whatsapp"
SEND_WEBHOOK_ACTOR = "send_webhook"
# The queues a delivery worker consumes: its own pool, never behind a render backlog.
DELIVERY_QUEUES = (EMAIL_SENDING, WHATSAPP_SENDING, DEFAULT)
RENDER_TAX_REPORT_ACTOR = "render_tax_report"
RENDER_TAX_REPORT_EXHAUSTED_ACTOR = "render_tax_report_retries_exhausted"


def ready_key(queue: str, namespace: str = BROKER_NAMESPACE) -> str:
    """The Redis list holding a queue's ready message ids (what KEDA measures)."""
    return f"{namespace}:{queue}"


def delayed_key(queue: str, namespace: str = BROKER_NAMESPACE) -> str:
    """The Redis list of a queue's delayed messages (Dramatiq's `.DQ`)."""
    return f"{namespace}:{queue}.DQ"


def dead_key(queue: str, namespace: str = BROKER_NAMESPACE) -> str:
    """The Redis sorted set of a queue's dead letters (Dramatiq's `.XQ`)."""
    return f"{namespace}:{queue}.XQ"
