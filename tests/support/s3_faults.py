"""An HTTP proxy in front of the S3 server that fails object uploads on demand."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class S3FaultProxy:
    """Forwards every request to S3, but answers 503 to object PUTs while told to fail."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.fail_next_puts = 0
        self.fail_all_puts = False
        self.failed_puts = 0
        self.forwarded_puts = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                is_object_put = self.command == "PUT" and urlsplit(self.path).path.count("/") >= 2
                if is_object_put and proxy._should_fail():
                    payload = b"<Error><Code>ServiceUnavailable</Code></Error>"
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if is_object_put:
                    proxy.forwarded_puts += 1
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = f"{target.hostname}:{target.port}"
                conn.request(self.command, self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _should_fail(self) -> bool:
        if self.fail_all_puts:
            self.failed_puts += 1
            return True
        if self.fail_next_puts > 0:
            self.fail_next_puts -= 1
            self.failed_puts += 1
            return True
        return False

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
