"""Choosing TCP ports that nothing else listens on."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"


def split_address(address: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) as a pair; wildcard hosts become loopback for connecting."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::", "*"):
        host = LOOPBACK
    return host, int(port)


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a listener could bind `host:port` now (sockets in TIME_WAIT do not count)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK) -> int:
    """A port the kernel says is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def reuse_or_free_port(previous_url: str | None, host: str = LOOPBACK) -> int:
    """The port of the previous run's URL when it is still free (stable URLs), else a free one."""
    if previous_url:
        try:
            parts = urlsplit(previous_url)
            port = parts.port
        except ValueError:
            port = None
        if port and parts.hostname == host and port_is_free(port, host):
            return port
    return free_port(host)
