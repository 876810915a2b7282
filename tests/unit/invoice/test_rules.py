"""Each rule of a new invoice names the field it was broken in."""

from __future__ import annotations

import pytest

from services.invoice.domain.errors import InvalidInput
from services.invoice.domain.rules import check_invoice
from services.invoice.entrypoints.messages import draft_from_request
from tests.invoice_cases import BAD_REQUESTS, GOOD, LINE, to_request

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("body", "field"), [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_request_names_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_invoice(draft_from_request(to_request(body)))
    assert field in [f.field for f in caught.value.fields]


def test_every_broken_rule_is_reported_at_once() -> None:
    body = {"customer_name": "", "customer_phone": "123", "currency": "XXXX", "amount": "-1"}
    with pytest.raises(InvalidInput) as caught:
        check_invoice(draft_from_request(to_request(body)))
    assert {f.field for f in caught.value.fields} >= {
        "customer_name",
        "customer_phone",
        "currency",
        "amount",
    }


def test_good_request_passes_with_defaults() -> None:
    checked = check_invoice(draft_from_request(to_request(GOOD)))
    assert checked.currency == "NGN"
    assert str(checked.amount) == "50000.00"
    assert checked.lines[0].description == "Amount due"


def test_names_in_any_script_are_kept_as_given_but_trimmed() -> None:
    for name in ("Adéwálé Ọ̀ṣọ́", "محمد عبد الله", "王小明", "Zoë 🧵"):
        checked = check_invoice(
            draft_from_request(to_request({**GOOD, "customer_name": f"  {name} "}))
        )
        assert checked.customer_name == name


def test_two_hundred_characters_of_any_script_is_allowed() -> None:
    checked = check_invoice(draft_from_request(to_request({**GOOD, "customer_name": "ẹ" * 200})))
    assert len(checked.customer_name) == 200


def test_amount_must_equal_lines_total_when_given() -> None:
    body = {"customer_name": "Ada", "lines": [LINE], "tax_rate": "7.5", "amount": "32250.00"}
    checked = check_invoice(draft_from_request(to_request(body)))
    assert str(checked.subtotal) == "30000.00"
    assert str(checked.tax) == "2250.00"
    assert str(checked.amount) == "32250.00"


def test_tax_rate_without_lines_is_refused_since_amount_is_the_total() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_invoice(draft_from_request(to_request({**GOOD, "tax_rate": "7.5"})))
    assert [f.field for f in caught.value.fields] == ["tax_rate"]


def test_nul_characters_are_refused_not_stored() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_invoice(draft_from_request(to_request({**GOOD, "notes": "a\x00b"})))
    assert [f.field for f in caught.value.fields] == ["notes"]


def test_total_over_the_column_bound_is_refused() -> None:
    body = {
        "customer_name": "Ada",
        "lines": [{"description": "x", "quantity": "1000000000", "unit_price": "999999999999.99"}],
    }
    with pytest.raises(InvalidInput) as caught:
        check_invoice(draft_from_request(to_request(body)))
    assert caught.value.fields[0].field in ("lines[0]", "amount")


def test_duplicate_channels_are_kept_once() -> None:
    body = {**GOOD, "customer_email": "ada@example.com", "deliver": ["email", "email"]}
    assert check_invoice(draft_from_request(to_request(body))).deliver == ["email"]
