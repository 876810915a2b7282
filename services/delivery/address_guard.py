"""Decides whether an IP address is public, so webhooks never reach internal networks."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from services.delivery.errors import PrivateAddressError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# A resolver answers a host name and port with the IP addresses to connect to.
Resolver = Callable[[str, int], list[str]]

# Ranges refused on top of what the standard library already calls non-global,
# spelled out because its flags have shifted between Python versions.
_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "fc00::/7",  # unique-local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
    )
)
# IPv6 prefixes that carry an IPv4 address in their last 32 bits.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64, 6to4, Teredo, compatible)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if int(address) >> 32 == 0 and int(address) > 1:
        # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks).
        return ipaddress.IPv4Address(int(address))
    return None


def is_public_address(address: IPAddress) -> bool:
    """True only for a globally routable unicast address (IPv4 inside IPv6 judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public_address(embedded):
            return False
    if any(address in net for net in _BLOCKED_NETWORKS if net.version == address.version):
        return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (one lookup)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = str(sockaddr[0])
        if ip not in addresses:
            addresses.append(ip)
    return addresses


def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolver: Resolver
) -> list[str]:
    """The addresses of host, resolved once, all public unless allow_private.

    A literal IP is used as given. When any address is not public the whole host
    is refused (PrivateAddressError), so an attacker cannot mix a public and a
    private answer and hope the connection picks the private one.
    """
    literal = host.strip("[]")
    try:
        ipaddress.ip_address(literal)
        raw = [literal]
    except ValueError:
        raw = resolver(host, port)
    addresses = [ipaddress.ip_address(ip) for ip in raw]
    if not addresses:
        raise OSError(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                where = f"host {host} resolves to {address}," if raw != [literal] else address
                raise PrivateAddressError(
                    f"webhook {where} is a private or internal address, which is not allowed"
                )
    return [str(address) for address in addresses]
