"""The pure parts of `suoops inspect`: key names, stored messages and render notes."""

from __future__ import annotations

import base64
import json

import pytest
from suoops.renderer.v1 import renderer_pb2

from services.cli.inspect import invoice_id_of, iso_ms
from services.common.broker_state import acks_key, decode_message, heartbeats_key
from services.common.queues import RENDER_INVOICE_ACTOR
from services.common.render_records import error_key, minute_key

pytestmark = pytest.mark.unit


def stored_render_message(invoice_id: str, **options: object) -> bytes:
    request = renderer_pb2.RenderInvoiceRequest(generation=1)
    request.invoice.invoice_id = invoice_id
    encoded = base64.b64encode(request.SerializeToString()).decode()
    return json.dumps(
        {
            "queue_name": "pdf_generation",
            "actor_name": RENDER_INVOICE_ACTOR,
            "args": [encoded],
            "kwargs": {},
            "options": options,
            "message_id": "abc",
            "message_timestamp": 1_764_000_000_000,
        }
    ).encode()


def test_render_message_is_decoded_to_its_invoice() -> None:
    message = decode_message("r1", stored_render_message("inv_123", retries=2), worker_id="w1")
    assert invoice_id_of(message) == "inv_123"
    assert message.options["retries"] == 2
    assert message.worker_id == "w1"
    assert iso_ms(message.timestamp_ms) == "2025-11-24T16:00:00Z"


def test_other_tasks_and_unreadable_payloads_have_no_invoice() -> None:
    other = json.loads(stored_render_message("inv_1"))
    other["actor_name"] = "send_email"
    assert invoice_id_of(decode_message("r2", json.dumps(other))) == ""
    broken = json.loads(stored_render_message("inv_1"))
    broken["args"] = ["not base64 protobuf!"]
    assert invoice_id_of(decode_message("r3", json.dumps(broken))) == ""


def test_key_names_follow_dramatiqs_layout() -> None:
    assert heartbeats_key() == "dramatiq:__heartbeats__"
    assert acks_key("w1", "pdf_generation") == "dramatiq:__acks__.w1.pdf_generation"
    assert acks_key("w1", "pdf_generation.DQ") == "dramatiq:__acks__.w1.pdf_generation.DQ"


def test_render_notes_are_keyed_by_minute_and_invoice() -> None:
    assert minute_key("ready", 120.0) == minute_key("ready", 179.9) == "suoops:renders:ready:2"
    assert error_key("inv_9") == "suoops:renders:error:inv_9"
