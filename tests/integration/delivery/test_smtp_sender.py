"""SmtpSender against a real SMTP server (aiosmtpd): plain, STARTTLS, implicit TLS, failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from suoops.invoice.v1 import invoice_pb2

from services.delivery.content import invoice_email
from services.delivery.email import EmailMessage, SmtpSender
from services.delivery.errors import PermanentDeliveryError, TemporaryDeliveryError
from tests.support.smtp_server import SmtpTestServer
from tests.support.tls import LocalCertificate, make_certificate

pytestmark = pytest.mark.integration

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
SENDER = "Ìyá Àdùnní Foods <billing@shop.test>"


def _message(to: str = "ade@example.com") -> EmailMessage:
    invoice = invoice_pb2.Invoice(
        invoice_id="INV-000777",
        customer_name="Adébáyọ̀",
        customer_email=to,
        currency="NGN",
        amount="50000.00",
        due_date="2026-02-01",
        business=invoice_pb2.BusinessInfo(name="Ìyá Àdùnní Foods"),
    )
    return invoice_email(invoice, PDF, "SuoOps")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> LocalCertificate:
    """A certificate for localhost and 127.0.0.1, signed by a test CA."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def plain_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


def test_the_server_receives_the_message_with_the_exact_pdf_bytes(
    plain_server: SmtpTestServer,
) -> None:
    SmtpSender(plain_server.url, SENDER).send(_message())

    [mail] = plain_server.wait_for_messages(1)
    assert mail.rcpt_tos == ["ade@example.com"]
    assert mail.mail_from == "billing@shop.test"
    assert mail.message["Subject"] == "Invoice INV-000777 from Ìyá Àdùnní Foods"
    assert mail.attachments() == [("INV-000777.pdf", "application/pdf", PDF)]
    assert "₦50,000.00" in mail.body("plain")
    assert "₦50,000.00" in mail.body("html")


def test_a_4xx_answer_is_a_temporary_error_with_the_server_text(
    plain_server: SmtpTestServer,
) -> None:
    plain_server.answer_next(451, "4.3.0 Mailbox busy, try later")
    with pytest.raises(TemporaryDeliveryError, match=r"451 4\.3\.0 Mailbox busy, try later"):
        SmtpSender(plain_server.url, SENDER).send(_message())
    assert plain_server.messages == []


def test_a_4xx_then_250_delivers_on_the_second_try(plain_server: SmtpTestServer) -> None:
    plain_server.answer_next(451, "4.3.0 Mailbox busy")
    sender = SmtpSender(plain_server.url, SENDER)
    with pytest.raises(TemporaryDeliveryError):
        sender.send(_message())
    sender.send(_message())
    assert len(plain_server.wait_for_messages(1)) == 1
    assert plain_server.attempts == 2


def test_a_5xx_answer_is_a_permanent_error_with_the_server_text(
    plain_server: SmtpTestServer,
) -> None:
    plain_server.answer_next(550, "5.1.1 <ade@example.com>: Recipient address rejected")
    with pytest.raises(PermanentDeliveryError) as caught:
        SmtpSender(plain_server.url, SENDER).send(_message())
    assert not isinstance(caught.value, TemporaryDeliveryError)
    assert "550 5.1.1 <ade@example.com>: Recipient address rejected" in str(caught.value)


def test_a_server_that_is_not_listening_is_a_temporary_error() -> None:
    server = SmtpTestServer()  # never started: nothing listens on its port
    with pytest.raises(TemporaryDeliveryError, match="could not reach SMTP server"):
        SmtpSender(server.url, SENDER, timeout=5).send(_message())


def test_login_uses_the_percent_decoded_credentials() -> None:
    with SmtpTestServer(credentials=("billing@shop.test", "p@ss:w/rd %")) as server:
        assert "p%40ss%3Aw%2Frd%20%25" in server.url
        SmtpSender(server.url, SENDER).send(_message())
        assert server.logins == ["billing@shop.test"]
        assert len(server.wait_for_messages(1)) == 1


def test_a_wrong_password_is_permanent_and_never_shown() -> None:
    with SmtpTestServer(credentials=("billing", "right-password")) as server:
        url = server.url.replace("right-password", "wrong-password-xyz")
        with pytest.raises(PermanentDeliveryError, match="535") as caught:
            SmtpSender(url, SENDER).send(_message())
        assert "wrong-password-xyz" not in str(caught.value)
        assert server.messages == []


def test_starttls_with_the_ca_file_delivers(certificate: LocalCertificate) -> None:
    with SmtpTestServer(
        mode="starttls", certificate=certificate, credentials=("billing", "pw")
    ) as server:
        assert "starttls=1" in server.url and "ca_file=" in server.url
        SmtpSender(server.url, SENDER).send(_message())
        [mail] = server.wait_for_messages(1)
        assert mail.attachments()[0][2] == PDF
        assert server.logins == ["billing"]


def test_implicit_tls_with_the_ca_file_delivers(certificate: LocalCertificate) -> None:
    with SmtpTestServer(
        mode="implicit", certificate=certificate, credentials=("billing", "pw")
    ) as server:
        assert server.url.startswith("smtps://")
        SmtpSender(server.url, SENDER).send(_message())
        [mail] = server.wait_for_messages(1)
        assert mail.attachments()[0][2] == PDF


def test_a_certificate_from_an_unknown_ca_is_refused(
    certificate: LocalCertificate, tmp_path: Path
) -> None:
    other_ca = make_certificate(tmp_path / "other").ca_file
    with SmtpTestServer(mode="implicit", certificate=certificate) as server:
        url = server.url.replace(str(certificate.ca_file).replace("/", "%2F"), str(other_ca))
        assert str(other_ca) in url
        with pytest.raises(PermanentDeliveryError, match="untrusted TLS certificate"):
            SmtpSender(url, SENDER).send(_message())
        assert server.messages == []


def test_starttls_refused_by_a_plain_server_is_a_permanent_error(
    plain_server: SmtpTestServer, certificate: LocalCertificate
) -> None:
    url = f"{plain_server.url}?starttls=1&ca_file={certificate.ca_file}"
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        SmtpSender(url, SENDER).send(_message())
    assert plain_server.messages == []


def test_a_message_without_recipient_is_refused_before_connecting(
    plain_server: SmtpTestServer,
) -> None:
    with pytest.raises(PermanentDeliveryError, match="no recipient"):
        SmtpSender(plain_server.url, SENDER).send(_message(to=""))
    assert plain_server.attempts == 0


def test_an_smtp_host_that_is_not_a_valid_name_is_a_permanent_error() -> None:
    with pytest.raises(PermanentDeliveryError, match="not valid"):
        SmtpSender("smtp://mail..example.com:25", SENDER, timeout=5).send(_message())
