"""A local SMTP server (aiosmtpd) that keeps what it receives and answers as scripted.

    with SmtpTestServer(mode="starttls", certificate=make_certificate(tmp_path)) as smtp:
        smtp.answer_next(451, "4.3.0 Try again later")  # then 250 again
        ... send to smtp.url ...
        mail = smtp.wait_for_messages(1)[0]

``url`` is an SMTP_URL for the server (with ``starttls=1``, ``smtps://`` and
``ca_file`` as the mode needs, and the credentials when the server wants a login).
"""

from __future__ import annotations

import email
import email.message
import email.policy
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlencode

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, Session

from tests.support.processes import free_port
from tests.support.tls import LocalCertificate

Mode = Literal["plain", "starttls", "implicit"]


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: email.message.EmailMessage

    def attachments(self) -> list[tuple[str, str, bytes]]:
        """Each attachment as (filename, content type, decoded bytes)."""
        found = []
        for part in self.message.iter_attachments():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append((part.get_filename() or "", part.get_content_type(), payload))
        return found

    def body(self, subtype: str) -> str:
        """The ``text/<subtype>`` body ("plain" or "html")."""
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} body"
        content = part.get_content()
        assert isinstance(content, str)
        return content


class _Handler:
    """aiosmtpd hooks: scripted answers first, else accept and keep the message."""

    def __init__(self, server: SmtpTestServer) -> None:
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self._server._receive(envelope)


class _QuietSession(Session):
    """aiosmtpd's session without the deprecated ``login_data`` property it warns about."""

    login_data: Any = None


class _QuietSMTP(SMTP):
    def _create_session(self) -> Session:
        return _QuietSession(self.loop)


class _QuietController(Controller):
    def factory(self) -> SMTP:
        return _QuietSMTP(self.handler, **self.SMTP_kwargs)


class SmtpTestServer:
    """An aiosmtpd server on 127.0.0.1 and a free port, run in its own thread."""

    def __init__(
        self,
        *,
        mode: Mode = "plain",
        certificate: LocalCertificate | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        if mode != "plain" and certificate is None:
            raise ValueError(f"mode {mode!r} needs a certificate")
        self.mode = mode
        self.certificate = certificate
        self.credentials = credentials
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self.attempts = 0
        self.logins: list[str] = []
        self._script: list[str] = []
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {}
        if credentials is not None:
            kwargs["authenticator"] = self._authenticate
            # Implicit TLS is TLS from the first byte; aiosmtpd only knows of STARTTLS.
            kwargs["auth_require_tls"] = mode == "starttls"
        if mode == "starttls":
            assert certificate is not None
            kwargs["tls_context"] = certificate.server_context()
            kwargs["require_starttls"] = True
        ssl_context = certificate.server_context() if mode == "implicit" and certificate else None
        self._controller = _QuietController(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=ssl_context,
            **kwargs,
        )

    @property
    def url(self) -> str:
        """The SMTP_URL that reaches this server."""
        scheme = "smtps" if self.mode == "implicit" else "smtp"
        userinfo = ""
        if self.credentials is not None:
            user, password = self.credentials
            userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}@"
        params: dict[str, str] = {}
        if self.mode == "starttls":
            params["starttls"] = "1"
        if self.certificate is not None and self.mode != "plain":
            params["ca_file"] = str(self.certificate.ca_file)
        query = f"?{urlencode(params)}" if params else ""
        return f"{scheme}://{userinfo}127.0.0.1:{self.port}{query}"

    def answer_next(self, code: int, text: str, *, times: int = 1) -> None:
        """Answers the next ``times`` messages' DATA with ``code text`` instead of 250."""
        with self._lock:
            self._script.extend([f"{code} {text}"] * times)

    def wait_for_messages(self, count: int, timeout: float = 20.0) -> list[ReceivedMail]:
        """The first ``count`` accepted messages, waiting for them up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages[:count])
            time.sleep(0.05)
        raise AssertionError(f"expected {count} messages, got {len(self.messages)}")

    def _receive(self, envelope: Any) -> str:
        with self._lock:
            self.attempts += 1
            if self._script:
                return self._script.pop(0)
            raw = bytes(envelope.original_content or envelope.content)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, email.message.EmailMessage)
            self.messages.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed)
            )
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        user, password = self.credentials
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        if ok:
            with self._lock:
                self.logins.append(user)
        # handled=False lets aiosmtpd answer 535 itself on a bad password.
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpTestServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
