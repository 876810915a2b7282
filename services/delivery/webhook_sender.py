"""Posts signed webhook events to a URL, connecting only to the address that was checked."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from urllib.parse import quote, urlsplit

from services.delivery.address_guard import Resolver, checked_addresses, system_resolver
from services.delivery.errors import PermanentDeliveryError, TemporaryDeliveryError
from services.delivery.retry_after import parse_retry_after
from services.delivery.webhook_signature import sign, verify

__all__ = ["USER_AGENT", "WebhookSender", "sign", "verify"]

USER_AGENT = "SuoOps-Webhooks/1.0"
# Characters a request target keeps as they are (RFC 3986 reserved ones and "%").
_URL_SAFE = "/?&=:@!$'()*+,;%[]"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a fixed IP; the Host header still names the URL's host."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed IP; SNI and the certificate check use the URL's host name."""

    def __init__(
        self, host: str, port: int, ip: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._ip = ip
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._ip, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


class WebhookSender:
    """Delivers one event body to one endpoint per call; raises a DeliveryError on failure.

    ``resolver`` (host, port) -> IP strings is looked up once per delivery; tests
    may pass their own. ``ssl_context`` replaces the default certificate check
    (tests trust a local CA with it).
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout: float = 10.0,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = timeout
        self._resolver = resolver or system_resolver
        self._ssl_context = ssl_context

    def post(self, url: str, body: bytes, secret: str, event_id: str) -> None:
        """POSTs the signed body; 2xx returns, anything else raises."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise PermanentDeliveryError(f"webhook URL must be http or https, not {scheme!r}")
        try:
            host = parts.hostname
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise PermanentDeliveryError("webhook URL has an invalid port") from None
        if not host:
            raise PermanentDeliveryError("webhook URL has no host")
        try:
            addresses = checked_addresses(
                host, port, allow_private=self._allow_private, resolver=self._resolver
            )
        except OSError as exc:
            raise TemporaryDeliveryError(f"could not resolve webhook host {host}: {exc}") from None
        except ValueError:
            # IDNA rejects malformed names (empty labels, labels over 63 characters).
            raise PermanentDeliveryError(f"webhook host {host!r} is not a valid name") from None
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        # Non-ASCII, spaces and control characters are percent-encoded, as browsers do.
        target = quote(target, safe=_URL_SAFE)
        headers = {
            "Content-Type": "application/json",
            "SuoOps-Signature": sign(secret, body, int(time.time())),
            "SuoOps-Event-Id": event_id,
            "User-Agent": USER_AGENT,
        }
        self._deliver(scheme, host, port, addresses, target, body, headers)

    def _connection(self, scheme: str, host: str, port: int, ip: str) -> http.client.HTTPConnection:
        """A connection to ``ip`` that speaks to ``host``."""
        if scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
            return _PinnedHTTPSConnection(host, port, ip, self._timeout, context)
        return _PinnedHTTPConnection(host, port, ip, self._timeout)

    def _deliver(
        self,
        scheme: str,
        host: str,
        port: int,
        addresses: list[str],
        target: str,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        """Tries each checked address until one answers, then judges the answer."""
        last_error: Exception | None = None
        for ip in addresses:
            conn = self._connection(scheme, host, port, ip)
            try:
                try:
                    conn.connect()
                except ssl.SSLCertVerificationError as exc:
                    raise PermanentDeliveryError(
                        f"webhook host {host} has an untrusted TLS certificate: "
                        f"{exc.verify_message}"
                    ) from None
                except OSError as exc:
                    last_error = exc
                    continue
                try:
                    conn.request("POST", target, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read(64 * 1024)
                except (OSError, http.client.HTTPException) as exc:
                    reason = str(exc) or type(exc).__name__
                    raise TemporaryDeliveryError(
                        f"webhook delivery to {host} failed: {reason}"
                    ) from None
                self._judge(host, response.status, response.getheader("Retry-After"))
                return
            finally:
                conn.close()
        reason = str(last_error) or type(last_error).__name__
        raise TemporaryDeliveryError(f"could not connect to webhook host {host}: {reason}")

    @staticmethod
    def _judge(host: str, status: int, retry_after: str | None) -> None:
        """2xx is delivered; 5xx and 429 may pass later; anything else will not."""
        if 200 <= status < 300:
            return
        if status == 429 or status >= 500:
            raise TemporaryDeliveryError(
                f"webhook endpoint {host} answered HTTP {status}",
                retry_after=parse_retry_after(retry_after),
            )
        raise PermanentDeliveryError(f"webhook endpoint {host} answered HTTP {status}")
