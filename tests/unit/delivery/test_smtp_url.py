"""SMTP_URL parsing: schemes, default ports, STARTTLS, CA file and percent-decoded login."""

from __future__ import annotations

import pytest

from services.delivery.errors import PermanentDeliveryError
from services.delivery.smtp_url import parse_smtp_url

pytestmark = pytest.mark.unit


def test_plain_smtp_url_with_login() -> None:
    endpoint = parse_smtp_url("smtp://mailer:s3cret@mail.example.com:2525")
    assert (endpoint.host, endpoint.port) == ("mail.example.com", 2525)
    assert not endpoint.implicit_tls and not endpoint.starttls
    assert (endpoint.username, endpoint.password) == ("mailer", "s3cret")


def test_user_and_password_are_percent_decoded() -> None:
    endpoint = parse_smtp_url("smtp://me%40shop.ng:p%40ss%3Aw%2Frd@mail.example.com")
    assert (endpoint.username, endpoint.password) == ("me@shop.ng", "p@ss:w/rd")


def test_no_user_means_no_login() -> None:
    endpoint = parse_smtp_url("smtp://127.0.0.1:1025")
    assert endpoint.username is None and endpoint.password is None


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("smtp://mail.example.com", 25),
        ("smtp://mail.example.com?starttls=1", 587),
        ("smtps://mail.example.com", 465),
    ],
)
def test_default_ports_follow_the_scheme(url: str, port: int) -> None:
    assert parse_smtp_url(url).port == port


def test_starttls_and_ca_file_come_from_the_query() -> None:
    endpoint = parse_smtp_url("smtp://mail.example.com:587?starttls=1&ca_file=/etc/ca.pem")
    assert endpoint.starttls and not endpoint.implicit_tls
    assert endpoint.ca_file == "/etc/ca.pem"


def test_smtps_is_implicit_tls() -> None:
    endpoint = parse_smtp_url("smtps://u:p@mail.example.com")
    assert endpoint.implicit_tls and not endpoint.starttls


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.com", "smtp:// or smtps://"),
        ("mail.example.com:25", "smtp:// or smtps://"),
        ("smtp://:25", "no host"),
        ("smtp://mail.example.com:notaport", "invalid port"),
        ("smtp://mail.example.com?starttls=maybe", "starttls"),
        ("smtp://mail.example.com?tls=1", "unknown parameter 'tls'"),
        ("smtps://mail.example.com?starttls=1", "both"),
    ],
)
def test_a_malformed_url_is_a_permanent_error_naming_the_problem(url: str, problem: str) -> None:
    with pytest.raises(PermanentDeliveryError, match=problem):
        parse_smtp_url(url)


def test_the_password_never_shows_in_errors_or_repr() -> None:
    endpoint = parse_smtp_url("smtp://mailer:hunter2-secret@mail.example.com")
    assert "hunter2-secret" not in repr(endpoint)
    with pytest.raises(PermanentDeliveryError) as caught:
        parse_smtp_url("smtp://mailer:hunter2-secret@mail.example.com?bogus=1")
    assert "hunter2-secret" not in str(caught.value)
