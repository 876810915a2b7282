"""Secrets never appear in logs, task messages or error bodies (CONTRACT §6)."""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
import redis

from services.common.queues import ready_key
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def readable(raw: bytes) -> str:
    """A Dramatiq message as text, its base64 arguments decoded too."""
    text = raw.decode(errors="replace")
    try:
        message = json.loads(text)
    except ValueError:
        return text
    decoded = []
    for arg in message.get("args", []):
        if isinstance(arg, str):
            with contextlib.suppress(ValueError):
                decoded.append(base64.b64decode(arg, validate=True).decode("latin-1"))
    return "\n".join([text, *decoded])


def test_no_secret_reaches_a_log_a_task_message_or_an_error_body(
    make_stack: Callable[..., Stack], redis_url: str
) -> None:
    db_password = f"dbpw-{uuid.uuid4().hex}"
    aws_secret = f"aws-{uuid.uuid4().hex}"
    internal = f"internal-{uuid.uuid4().hex}"
    probe = make_stack((), AWS_SECRET_ACCESS_KEY=aws_secret, INTERNAL_TOKEN=internal)
    # The server trusts local connections, so a password in the URL is accepted and ignored.
    with_password = probe.database_url.replace("postgres@", f"postgres:{db_password}@", 1)
    stack = make_stack(
        ("invoice", "worker", "gateway"),
        DATABASE_URL=with_password,
        AWS_SECRET_ACCESS_KEY=aws_secret,
        INTERNAL_TOKEN=internal,
        RENDER_MAX_RETRIES="0",
        LOG_LEVEL="DEBUG",
    )
    secrets = [db_password, aws_secret, internal, stack.token]
    bodies: list[str] = []
    auth = {"Authorization": f"Bearer {stack.token}"}
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
        created = http.post(
            "/invoices/", json={"customer_name": "Ada", "amount": "10"}, headers=auth
        )
        invoice_id = created.json()["invoice_id"]
        stack.wait_for_pdf(invoice_id)
        for reply in (
            http.get("/invoices", headers={"Authorization": f"Bearer {stack.token}x"}),
            http.post("/invoices/", json={"customer_name": ""}, headers=auth),
            http.post("/invoices/", content=b"{not json", headers=auth),
            http.get("/invoices/INV-NOSUCHONE", headers=auth),
            http.post(f"/invoices/{invoice_id}/pdf/regenerate", headers=auth),
        ):
            bodies.append(reply.text)
        stack.wait_for_pdf(invoice_id)
        logs = [stack.group.logs(name) for name in stack.started]
        # With no worker, the next job stays in Redis where its message can be read.
        stack.group.stop("worker")
        queued = http.post(
            "/invoices/", json={"customer_name": "Bola", "amount": "7"}, headers=auth
        )
        assert queued.status_code == 201
    queue = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 10
    while not queue.llen(ready_key("pdf_generation")) and time.monotonic() < deadline:
        time.sleep(0.05)
    messages = [
        readable(value)
        for key in queue.keys("dramatiq:*")
        if queue.type(key) == b"hash"
        for value in queue.hvals(key)
    ]
    logs += [stack.group.logs(name) for name in ("invoice", "gateway")]
    assert any("invoice rendered" in log for log in logs)  # the logs were really captured
    assert any(queued.json()["invoice_id"] in m for m in messages)  # a job message was read
    for secret in secrets:
        for text in (*logs, *messages, *bodies):
            assert secret not in text
