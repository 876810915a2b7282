"""Webhook signatures: ``t=<t>,v1=<HMAC-SHA256 of "<t>.<body>">``, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.delivery.webhook_signature import sign, verify

pytestmark = pytest.mark.unit

BODY = b'{"id":"evt_1","type":"invoice.pdf_ready"}'


def test_signature_is_the_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"whsec_1", b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign("whsec_1", BODY, 1700000000) == f"t=1700000000,v1={expected}"


def test_verify_accepts_a_signature_made_with_the_same_secret() -> None:
    header = sign("whsec_1", BODY, 1700000000)
    assert verify("whsec_1", BODY, header, now=1700000010)


def test_verify_rejects_another_secret() -> None:
    header = sign("whsec_1", BODY, 1700000000)
    assert not verify("whsec_2", BODY, header, now=1700000000)


def test_verify_rejects_a_changed_body() -> None:
    header = sign("whsec_1", BODY, 1700000000)
    assert not verify("whsec_1", BODY + b" ", header, now=1700000000)


def test_verify_rejects_a_timestamp_outside_the_tolerance() -> None:
    header = sign("whsec_1", BODY, 1700000000)
    assert not verify("whsec_1", BODY, header, now=1700000301)
    assert not verify("whsec_1", BODY, header, now=1699999699)
    assert verify("whsec_1", BODY, header, now=1700000300)


def test_verify_rejects_a_replayed_signature_with_a_new_timestamp() -> None:
    digest = sign("whsec_1", BODY, 1700000000).split("v1=")[1]
    assert not verify("whsec_1", BODY, f"t=1700000100,v1={digest}", now=1700000100)


def test_verify_accepts_any_matching_v1_among_several() -> None:
    good = sign("whsec_1", BODY, 1700000000)
    header = f"{good.split(',')[0]},v1={'0' * 64},{good.split(',')[1]}"
    assert verify("whsec_1", BODY, header, now=1700000000)


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "t=abc,v1=00", "v1=00", "t=1700000000", "t=1700000000,v0=00"],
)
def test_verify_rejects_malformed_headers(header: str) -> None:
    assert not verify("whsec_1", BODY, header, now=1700000000)
