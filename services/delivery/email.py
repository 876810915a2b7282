"""Sends an email with a PDF attached over SMTP (plain, STARTTLS or implicit TLS)."""

from __future__ import annotations

import email.message
import email.policy
import email.utils
import smtplib
import ssl
from dataclasses import dataclass, field

from services.delivery.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from services.delivery.smtp_url import SmtpEndpoint, parse_smtp_url


@dataclass(frozen=True)
class EmailMessage:
    """One email to one recipient: text and HTML bodies and one PDF attachment."""

    to: str
    subject: str
    text: str
    html: str
    attachment_name: str
    attachment: bytes = field(repr=False)


def _server_text(code: int, text: bytes | str) -> str:
    """An SMTP reply as one line, e.g. "550 5.1.1 No such user"."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}".strip()


def _classify(code: int, text: bytes | str, what: str) -> DeliveryError:
    """A 4xx reply is temporary, anything else the server refused with is permanent."""
    reply = _server_text(code, text)
    if 400 <= code < 500:
        return TemporaryDeliveryError(f"SMTP server deferred the {what}: {reply}")
    return PermanentDeliveryError(f"SMTP server rejected the {what}: {reply}")


def build_mime(message: EmailMessage, sender: str) -> email.message.EmailMessage:
    """The MIME message: multipart/alternative text + HTML, with the PDF attached."""
    mime = email.message.EmailMessage(policy=email.policy.SMTP)
    try:
        mime["From"] = sender
        mime["To"] = message.to
        mime["Subject"] = message.subject
    except (ValueError, TypeError) as exc:
        raise PermanentDeliveryError(f"email header is not valid: {exc}") from exc
    mime["Date"] = email.utils.formatdate(localtime=False)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or None
    mime["Message-ID"] = email.utils.make_msgid(domain=domain)
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    mime.add_attachment(
        message.attachment,
        maintype="application",
        subtype="pdf",
        filename=message.attachment_name,
    )
    return mime


class SmtpSender:
    """Sends EmailMessages through the server an SMTP_URL names (see ``parse_smtp_url``)."""

    def __init__(self, smtp_url: str, sender: str, *, timeout: float = 30.0) -> None:
        self._endpoint: SmtpEndpoint = parse_smtp_url(smtp_url)
        self._sender = sender
        self._timeout = timeout

    def __repr__(self) -> str:
        e = self._endpoint
        return f"SmtpSender(host={e.host!r}, port={e.port}, sender={self._sender!r})"

    def _tls_context(self) -> ssl.SSLContext:
        """Verifies the server's certificate and name, against ca_file when given."""
        return ssl.create_default_context(cafile=self._endpoint.ca_file)

    def _connect(self) -> smtplib.SMTP:
        """An open, greeted, secured and logged-in SMTP session."""
        e = self._endpoint
        client: smtplib.SMTP
        if e.implicit_tls:
            client = smtplib.SMTP_SSL(
                e.host, e.port, timeout=self._timeout, context=self._tls_context()
            )
        else:
            client = smtplib.SMTP(e.host, e.port, timeout=self._timeout)
        try:
            client.ehlo()
            if e.starttls:
                client.starttls(context=self._tls_context())
                client.ehlo()
            if e.username:
                client.login(e.username, e.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def send(self, message: EmailMessage) -> None:
        """Sends one message; raises TemporaryDeliveryError or PermanentDeliveryError."""
        if not message.to.strip():
            raise PermanentDeliveryError("email has no recipient address")
        mime = build_mime(message, self._sender)
        where = f"{self._endpoint.host}:{self._endpoint.port}"
        try:
            client = self._connect()
            try:
                client.send_message(mime)
            finally:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _classify(code, text, "recipient") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise _classify(exc.smtp_code, exc.smtp_error, "login") from None
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error, "message") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentDeliveryError(f"SMTP server {where}: {exc}") from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentDeliveryError(
                f"SMTP server {where} has an untrusted TLS certificate: {exc.verify_message}"
            ) from None
        except UnicodeError:
            raise PermanentDeliveryError(
                f"SMTP host {self._endpoint.host!r} is not valid"
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            raise TemporaryDeliveryError(f"SMTP server {where} disconnected: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            raise TemporaryDeliveryError(f"could not reach SMTP server {where}: {reason}") from None
