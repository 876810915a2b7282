"""WebhookSender against a local receiver: signature, headers, the private-address guard."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from services.delivery.errors import (
    PermanentDeliveryError,
    PrivateAddressError,
    TemporaryDeliveryError,
)
from services.delivery.webhook_sender import WebhookSender, verify
from tests.support.processes import free_port
from tests.support.tls import LocalCertificate, make_certificate
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.integration

SECRET = "whsec_test_5f2b9c"
EVENT = {"id": "evt_01", "type": "invoice.pdf_ready", "data": {"invoice_id": "INV-000123"}}
BODY = json.dumps(EVENT).encode()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> LocalCertificate:
    """A certificate for hooks.example.test (and localhost), signed by a test CA."""
    return make_certificate(tmp_path_factory.mktemp("tls"), ("hooks.example.test", "localhost"))


class CountingResolver:
    """Answers 127.0.0.1 the first time and an unroutable address after, counting lookups."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return ["127.0.0.1"] if len(self.calls) == 1 else ["192.0.2.1"]


def test_delivery_carries_a_signature_that_verifies_with_the_secret(
    receiver: WebhookReceiver,
) -> None:
    WebhookSender(allow_private=True).post(receiver.url, BODY, SECRET, "evt_01")

    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hooks"
    assert request.body == BODY
    signature = request.header("SuoOps-Signature")
    assert signature is not None and signature.startswith("t=")
    assert verify(SECRET, request.body, signature)
    assert not verify("whsec_someone_else", request.body, signature)


def test_delivery_names_the_event_content_type_and_user_agent(
    receiver: WebhookReceiver,
) -> None:
    WebhookSender(allow_private=True).post(receiver.url, BODY, SECRET, "evt_01")

    [request] = receiver.requests
    assert request.header("SuoOps-Event-Id") == "evt_01"
    assert request.header("Content-Type") == "application/json"
    assert request.header("User-Agent") == "SuoOps-Webhooks/1.0"


def test_5xx_twice_then_200_is_two_temporary_errors_then_a_delivery_with_one_event_id(
    receiver: WebhookReceiver,
) -> None:
    receiver.answer_next(500, 503)
    sender = WebhookSender(allow_private=True)
    for _ in range(2):
        with pytest.raises(TemporaryDeliveryError, match="HTTP 5"):
            sender.post(receiver.url, BODY, SECRET, "evt_01")
    sender.post(receiver.url, BODY, SECRET, "evt_01")

    statuses = [r.status for r in receiver.requests]
    assert statuses == [500, 503, 200]
    assert {r.header("SuoOps-Event-Id") for r in receiver.requests} == {"evt_01"}


def test_429_is_temporary_with_retry_after(receiver: WebhookReceiver) -> None:
    receiver.answer_next(429, headers={"Retry-After": "30"})
    with pytest.raises(TemporaryDeliveryError) as caught:
        WebhookSender(allow_private=True).post(receiver.url, BODY, SECRET, "evt_01")
    assert caught.value.retry_after == 30.0


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_other_4xx_answers_are_permanent(receiver: WebhookReceiver, status: int) -> None:
    receiver.answer_next(status)
    with pytest.raises(PermanentDeliveryError, match=f"HTTP {status}"):
        WebhookSender(allow_private=True).post(receiver.url, BODY, SECRET, "evt_01")


def test_a_redirect_is_not_followed(receiver: WebhookReceiver) -> None:
    with WebhookReceiver() as target:
        receiver.answer_next(307, headers={"Location": target.url})
        with pytest.raises(PermanentDeliveryError, match="HTTP 307"):
            WebhookSender(allow_private=True).post(receiver.url, BODY, SECRET, "evt_01")
        assert target.requests == []


def test_localhost_is_refused_unless_private_addresses_are_allowed(
    receiver: WebhookReceiver,
) -> None:
    url = f"http://localhost:{receiver.port}/hooks"
    with pytest.raises(PrivateAddressError, match="localhost"):
        WebhookSender(allow_private=False).post(url, BODY, SECRET, "evt_01")
    assert receiver.requests == []

    WebhookSender(allow_private=True).post(url, BODY, SECRET, "evt_01")
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://100.64.0.1/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_a_literal_internal_address_is_refused(url: str) -> None:
    with pytest.raises(PrivateAddressError):
        WebhookSender(allow_private=False, timeout=1).post(url, BODY, SECRET, "evt_01")


def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    receiver: WebhookReceiver,
) -> None:
    sender = WebhookSender(allow_private=False, resolver=lambda host, port: ["127.0.0.1"])
    with pytest.raises(PrivateAddressError, match=r"hooks\.example\.test"):
        sender.post(f"http://hooks.example.test:{receiver.port}/hooks", BODY, SECRET, "e")
    assert receiver.requests == []


def test_the_connection_goes_to_the_checked_address_with_the_host_header(
    receiver: WebhookReceiver,
) -> None:
    resolver = CountingResolver()
    sender = WebhookSender(allow_private=True, resolver=resolver)
    sender.post(f"http://hooks.example.test:{receiver.port}/hooks?v=1", BODY, SECRET, "e")

    # One lookup only: a second answer (192.0.2.1) would never reach the receiver.
    assert resolver.calls == ["hooks.example.test"]
    [request] = receiver.requests
    assert request.header("Host") == f"hooks.example.test:{receiver.port}"
    assert request.path == "/hooks?v=1"


def test_a_path_with_non_ascii_and_spaces_is_sent_percent_encoded(
    receiver: WebhookReceiver,
) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hooks/ọjà now?shop=Ìyá&x=%2F"
    WebhookSender(allow_private=True).post(url, BODY, SECRET, "evt_01")

    [request] = receiver.requests
    assert request.path == "/hooks/%E1%BB%8Dj%C3%A0%20now?shop=%C3%8Cy%C3%A1&x=%2F"


def test_https_connects_to_the_checked_address_and_verifies_the_hostname(
    certificate: LocalCertificate,
) -> None:
    resolver = CountingResolver()
    sender = WebhookSender(
        allow_private=True, resolver=resolver, ssl_context=certificate.client_context()
    )
    with WebhookReceiver(certificate=certificate) as receiver:
        sender.post(f"https://hooks.example.test:{receiver.port}/hooks", BODY, SECRET, "e")

        assert resolver.calls == ["hooks.example.test"]
        [request] = receiver.requests
        assert request.header("Host") == f"hooks.example.test:{receiver.port}"
        assert verify(SECRET, request.body, request.header("SuoOps-Signature") or "")


def test_https_refuses_a_certificate_for_another_name(certificate: LocalCertificate) -> None:
    sender = WebhookSender(
        allow_private=True,
        resolver=lambda host, port: ["127.0.0.1"],
        ssl_context=certificate.client_context(),
    )
    with WebhookReceiver(certificate=certificate) as receiver:
        url = f"https://evil.example.test:{receiver.port}/hooks"
        with pytest.raises(PermanentDeliveryError, match="untrusted TLS certificate"):
            sender.post(url, BODY, SECRET, "e")
        assert receiver.requests == []


def test_https_with_the_default_trust_store_refuses_a_private_ca(
    certificate: LocalCertificate,
) -> None:
    sender = WebhookSender(allow_private=True, resolver=lambda host, port: ["127.0.0.1"])
    with WebhookReceiver(certificate=certificate) as receiver:
        with pytest.raises(PermanentDeliveryError, match="untrusted TLS certificate"):
            sender.post(f"https://hooks.example.test:{receiver.port}/h", BODY, SECRET, "e")
        assert receiver.requests == []


def test_nothing_listening_is_a_temporary_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks"
    with pytest.raises(TemporaryDeliveryError, match="could not connect"):
        WebhookSender(allow_private=True).post(url, BODY, SECRET, "evt_01")


def test_a_receiver_that_never_answers_is_a_temporary_error() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hooks"
        with pytest.raises(TemporaryDeliveryError, match="timed out"):
            WebhookSender(allow_private=True, timeout=0.5).post(url, BODY, SECRET, "evt_01")
    finally:
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        silent.close()


def test_an_unresolvable_host_is_a_temporary_error() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    sender = WebhookSender(allow_private=False, resolver=failing)
    with pytest.raises(TemporaryDeliveryError, match="could not resolve"):
        sender.post("https://hooks.example.test/h", BODY, SECRET, "evt_01")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://hooks.example.test/x", "http or https"),
        ("http:///x", "no host"),
        ("http://hooks..example.test/x", "not a valid name"),
        (f"http://{'a' * 64}.example.test/x", "not a valid name"),
        ("http://hooks.example.test:99999/x", "invalid port"),
    ],
)
def test_a_malformed_url_is_permanent(url: str, problem: str) -> None:
    with pytest.raises(PermanentDeliveryError, match=problem):
        WebhookSender(allow_private=True).post(url, BODY, SECRET, "evt_01")


def test_the_secret_is_never_sent_or_shown(receiver: WebhookReceiver) -> None:
    receiver.answer_next(500)
    with pytest.raises(TemporaryDeliveryError) as caught:
        WebhookSender(allow_private=True).post(receiver.url, BODY, SECRET, "evt_01")
    assert SECRET not in str(caught.value)
    [request] = receiver.requests
    assert SECRET not in json.dumps(request.headers) and SECRET.encode() not in request.body
