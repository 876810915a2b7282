"""WhatsAppClient against a local server that speaks the Cloud API's messages endpoint."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from services.delivery.errors import PermanentDeliveryError, TemporaryDeliveryError
from services.delivery.whatsapp import WhatsAppClient
from tests.support.processes import free_port
from tests.support.whatsapp_api import WhatsAppTestApi

pytestmark = pytest.mark.integration

TOKEN = "EAAJB-test-token-do-not-log"
LINK = "https://s3.example.com/invoices/INV-000123.pdf?X-Amz-Signature=abc"


@pytest.fixture
def api() -> Iterator[WhatsAppTestApi]:
    with WhatsAppTestApi(token=TOKEN) as server:
        yield server


def _client(api: WhatsAppTestApi, token: str = TOKEN) -> WhatsAppClient:
    return WhatsAppClient(api.api_url, api.phone_number_id, token, timeout=5)


def _send(client: WhatsAppClient) -> str:
    return client.send_document("+2348012345678", LINK, "INV-000123.pdf", "Invoice: ₦50,000.00")


def test_the_api_receives_the_document_message_with_the_right_fields_and_token(
    api: WhatsAppTestApi,
) -> None:
    message_id = _send(_client(api))

    [request] = api.requests
    assert request.path == f"/v21.0/{api.phone_number_id}/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "2348012345678",
        "type": "document",
        "document": {
            "link": LINK,
            "filename": "INV-000123.pdf",
            "caption": "Invoice: ₦50,000.00",
        },
    }
    assert request.status == 200
    assert message_id.startswith("wamid.")


def test_429_with_retry_after_is_temporary_and_carries_the_delay(api: WhatsAppTestApi) -> None:
    api.answer_next(429, retry_after="17")
    with pytest.raises(TemporaryDeliveryError) as caught:
        _send(_client(api))
    assert caught.value.retry_after == 17.0
    assert "Rate limit hit" in str(caught.value)
    # The next attempt, once the API lets it through, succeeds.
    assert _send(_client(api)).startswith("wamid.")
    assert len(api.documents()) == 1


def test_429_with_an_http_date_retry_after_gives_seconds(api: WhatsAppTestApi) -> None:
    api.answer_next(429, retry_after="Wed, 21 Oct 2099 07:28:00 GMT")
    with pytest.raises(TemporaryDeliveryError) as caught:
        _send(_client(api))
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


def test_500_is_temporary(api: WhatsAppTestApi) -> None:
    api.answer_next(500)
    with pytest.raises(TemporaryDeliveryError, match="HTTP 500") as caught:
        _send(_client(api))
    assert caught.value.retry_after is None


def test_400_is_permanent_with_the_graph_error_message(api: WhatsAppTestApi) -> None:
    api.answer_next(400, message="(#131026) Message undeliverable", code=131026)
    with pytest.raises(PermanentDeliveryError) as caught:
        _send(_client(api))
    assert not isinstance(caught.value, TemporaryDeliveryError)
    assert "(#131026) Message undeliverable" in str(caught.value)


def test_a_bad_token_is_permanent_and_the_token_is_never_in_the_error(
    api: WhatsAppTestApi,
) -> None:
    with pytest.raises(PermanentDeliveryError, match="HTTP 401") as caught:
        _send(_client(api, token="EAAJB-wrong-token"))
    assert "Invalid OAuth access token" in str(caught.value)
    assert "EAAJB-wrong-token" not in str(caught.value)
    assert TOKEN not in repr(_client(api))


def test_an_unknown_phone_number_id_is_permanent(api: WhatsAppTestApi) -> None:
    client = WhatsAppClient(api.api_url, "999", TOKEN, timeout=5)
    with pytest.raises(PermanentDeliveryError, match="HTTP 404"):
        _send(client)
    assert api.documents() == []


def test_a_number_that_is_not_e164_never_reaches_the_api(api: WhatsAppTestApi) -> None:
    with pytest.raises(PermanentDeliveryError, match="customer_phone"):
        _client(api).send_document("0801 234", LINK, "INV-1.pdf", "")
    assert api.requests == []


def test_an_api_that_is_not_listening_is_a_temporary_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v21.0"
    with pytest.raises(TemporaryDeliveryError, match="could not reach the WhatsApp API"):
        _send(WhatsAppClient(url, "106540352242922", TOKEN, timeout=5))


def test_the_test_api_fetches_the_document_link_as_whatsapp_would(tmp_path: Path) -> None:
    pdf = b"%PDF-1.7 invoice bytes"
    (tmp_path / "INV-000123.pdf").write_bytes(pdf)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    files = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        link = f"http://127.0.0.1:{files.server_address[1]}/INV-000123.pdf"
        with WhatsAppTestApi(token=TOKEN, fetch_links=True) as api:
            _client(api).send_document("+2348012345678", link, "INV-000123.pdf", "")
            [request] = api.requests
            assert request.fetched == pdf
            assert request.fetch_error is None
    finally:
        files.shutdown()
        files.server_close()
