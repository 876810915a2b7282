"""The private-address guard refuses every internal range, IPv4 hidden in IPv6 included."""

from __future__ import annotations

import ipaddress

import pytest

from services.delivery.address_guard import Resolver, checked_addresses, is_public_address
from services.delivery.errors import PermanentDeliveryError, PrivateAddressError

pytestmark = pytest.mark.unit

INTERNAL = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "192.0.0.8",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "::127.0.0.1",  # IPv4-compatible
    "2001:db8::1",  # documentation
]

PUBLIC = ["8.8.8.8", "1.1.1.1", "102.89.32.1", "2606:4700:4700::1111", "2a03:2880:f10e::1"]


@pytest.mark.parametrize("text", INTERNAL)
def test_internal_addresses_are_not_public(text: str) -> None:
    assert not is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC)
def test_global_unicast_addresses_are_public(text: str) -> None:
    assert is_public_address(ipaddress.ip_address(text))


def test_a_scoped_ipv6_address_is_not_public() -> None:
    assert not is_public_address(ipaddress.ip_address("fe80::1%1"))


def _resolves_to(*addresses: str) -> Resolver:
    return lambda host, port: list(addresses)


def test_a_name_with_one_private_answer_among_public_ones_is_refused() -> None:
    with pytest.raises(PrivateAddressError, match=r"10\.0\.0\.7"):
        checked_addresses(
            "hooks.example.com",
            443,
            allow_private=False,
            resolver=_resolves_to("8.8.8.8", "10.0.0.7"),
        )


def test_a_name_with_only_public_answers_gives_them_all() -> None:
    found = checked_addresses(
        "hooks.example.com", 443, allow_private=False, resolver=_resolves_to("8.8.8.8", "1.1.1.1")
    )
    assert found == ["8.8.8.8", "1.1.1.1"]


def test_a_literal_address_is_judged_without_a_lookup() -> None:
    def no_lookup(host: str, port: int) -> list[str]:
        raise AssertionError("a literal IP must not be resolved")

    with pytest.raises(PrivateAddressError, match="::1"):
        checked_addresses("[::1]", 80, allow_private=False, resolver=no_lookup)
    assert checked_addresses("10.0.0.1", 80, allow_private=True, resolver=no_lookup) == ["10.0.0.1"]


def test_allow_private_lets_internal_addresses_through() -> None:
    found = checked_addresses(
        "localhost", 80, allow_private=True, resolver=_resolves_to("127.0.0.1")
    )
    assert found == ["127.0.0.1"]


def test_a_private_address_error_is_permanent() -> None:
    assert issubclass(PrivateAddressError, PermanentDeliveryError)


def test_a_name_without_addresses_is_an_os_error() -> None:
    with pytest.raises(OSError, match="no address"):
        checked_addresses("empty.example", 80, allow_private=False, resolver=_resolves_to())
