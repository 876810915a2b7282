"""Parses SMTP_URL (``smtp://user:pass@host:port``, ``smtps://``, ``?starttls=1``) into settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from services.delivery.errors import PermanentDeliveryError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_KNOWN_PARAMS = {"starttls", "ca_file"}


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where and how to reach an SMTP server; ``repr`` never shows the password."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None


def _flag(name: str, value: str) -> bool:
    """A yes/no query parameter."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise PermanentDeliveryError(f"SMTP_URL parameter {name} must be 1 or 0, not {value!r}")


def parse_smtp_url(url: str) -> SmtpEndpoint:
    """The endpoint an SMTP_URL names; a malformed URL raises PermanentDeliveryError.

    ``smtp://`` speaks plain SMTP (port 25 by default) and upgrades with STARTTLS
    when ``?starttls=1`` is given (port 587 by default); ``smtps://`` wraps the
    connection in TLS from the start (port 465 by default). User and password are
    percent-decoded. ``?ca_file=/path/ca.pem`` trusts that CA bundle for the TLS
    certificate check; without it the system store is used, which also honours
    the standard ``SSL_CERT_FILE`` variable. Error texts never contain the password.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        shown = f"{scheme}://" if scheme else "(no scheme)"
        raise PermanentDeliveryError(f"SMTP_URL must start with smtp:// or smtps://, not {shown}")
    try:
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise PermanentDeliveryError("SMTP_URL has an invalid port") from exc
    if not host:
        raise PermanentDeliveryError("SMTP_URL has no host")
    params: dict[str, str] = {}
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name not in _KNOWN_PARAMS:
            raise PermanentDeliveryError(f"SMTP_URL has an unknown parameter {name!r}")
        params[name] = values[-1]
    implicit_tls = scheme == "smtps"
    starttls = _flag("starttls", params.get("starttls", "0"))
    if implicit_tls and starttls:
        raise PermanentDeliveryError("SMTP_URL cannot use both smtps:// and starttls=1")
    if port is None:
        port = 465 if implicit_tls else 587 if starttls else 25
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    return SmtpEndpoint(
        host=host,
        port=port,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=username,
        password=password,
        ca_file=params.get("ca_file") or None,
    )
