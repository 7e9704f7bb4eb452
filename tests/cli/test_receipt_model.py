"""The receipt model and the values people read, without a store: known answers for each form,
and properties of the formatting (amounts read back exactly, paper lines within their width).
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.services.receipt_codec import decode
from stsvend.services.receipt_model import SaleReceipt, TokenEntry
from stsvend.vending.money import CURRENCY_DIGITS, Money
from stsvend.vending.tokenspec import TokenPurpose
from stsvend_cli.human import cell, money_text, percent_from_bp, price_text, time_text, units_text
from stsvend_cli.receipt import Line, build_receipt, receipt_lines, wrap_line
from stsvend_cli.receipt_escpos import escpos_bytes
from stsvend_cli.receipt_pdf import pdf_bytes

pypdf = pytest.importorskip("pypdf")

# As a sale's stored answer (version 1, the keys of `--json`) reads.
SALE = decode({
    "kind": "credit", "request_id": "r-41", "receipt": 41, "test": False,
    "utility": "Lusaka Water", "tax_number": "TPIN 1000000001",
    "at": "2026-03-01T07:05:07+00:00", "local_time": "2026-03-01T09:05:07+02:00",
    "operator": "ann", "terminal": "KIOSK-2",
    "meter": {"drn": "01000000016", "iin": "600727", "sgc": "123456", "krn": 1, "ti": 1,
              "key_type": 2, "ea": "07", "base_date": 2014, "resource": "water"},
    "contract": "K-9", "customer": "C-9", "tariff": "Domestic water", "unit": "m³",
    "money": {"currency": "ZMW", "tendered": 123456, "brought_forward": 0, "tax": 17029,
              "tax_bp": 1600, "carried_forward": 6,
              "lines": [{"kind": "fixed_charge", "amount": 5000, "units": 0, "block": None,
                         "price": None},
                        {"kind": "energy", "amount": 118450, "units": 947, "block": 1,
                         "price": "12.500000"}]},
    "units": 947,
    "tokens": [{"label": "Credit", "digits": "12345678901234567890", "class": 0, "subclass": 1,
                "purpose": "sale", "amount": 947}],
    "notes": [],
})  # fmt: skip


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "".join(page.extract_text() for page in reader.pages)


def test_a_production_sale_has_no_test_mark_and_reads_in_its_currency_and_unit() -> None:
    lines = receipt_lines(SALE)
    text = "\n".join(lines)
    assert "TEST" not in text and "COPY" not in text
    assert "  Amount tendered" in text and "ZMW 1,234.56" in text
    assert "Fixed charge (monthly)" in text and "ZMW -50.00" in text
    assert "Energy block 1 94.7 m³ at ZMW 12.50/m³" in text and "ZMW -1,184.50" in text
    assert "VAT included (16%)" in text and "ZMW 170.29" in text
    assert "Credit carried forward" in text and "ZMW 0.06" in text
    assert "Date: 2026-03-01 09:05:07 +02:00" in text
    assert "Operator ann, terminal KIOSK-2" in text
    assert "Credit 94.7 m³:" in text and "    1234 5678 9012 3456 7890" in text
    paper = escpos_bytes(build_receipt(SALE)).decode("cp437", "replace")
    pdf = _pdf_text(pdf_bytes(build_receipt(SALE)))
    for form in (paper, pdf):
        assert "TEST" not in form and "COPY" not in form
        assert "1234 5678 9012 3456 7890" in form and "ZMW 1,234.56" in form


def test_a_reversal_reprinted_says_copy_and_the_refund_in_every_form() -> None:
    from stsvend.vending.notices import REVERSAL_NOTICE

    result = SaleReceipt(
        kind="reversal", request_id="r-9", receipt=9, test=True, copy=True, utility="U",
        tax_number="T", at="2026-03-01T09:05:07+00:00", local_time="2026-03-01T09:05:07+00:00",
        operator="sue", terminal="T1", meter=None, reverses=4, refund=2000, currency="ZAR",
        reason="wrong meter", notes=(REVERSAL_NOTICE,),
    )  # fmt: skip
    receipt = build_receipt(result)
    assert [x.text for x in receipt.lines if x.style == "mark"] == [
        "*** TEST ***", "*** COPY ***", "*** COPY ***", "*** TEST ***"
    ]  # fmt: skip
    assert receipt.file_name("pdf") == "receipt-9-copy.pdf"
    for form in ("\n".join(receipt.text_lines()), _pdf_text(pdf_bytes(receipt))):
        assert "REVERSAL" in form and "Refund of receipt 4" in form and "ZAR 20.00" in form
        assert form.count("COPY") >= 2


def test_escpos_bytes_known_answer_for_a_small_receipt() -> None:
    token = TokenEntry("Test token", "0" * 20, 1, 0, TokenPurpose.TEST)
    receipt = build_receipt(SaleReceipt(
        kind="test", request_id="r-1", receipt=1, test=False, utility="U", tax_number="T", at="",
        local_time="", operator="", terminal="", meter=None, tokens=(token,),
    ))  # fmt: skip
    data = escpos_bytes(receipt, width=32)
    assert data.startswith(b"\x1bE\x01\x1ba\x01")  # the utility, bold and centred
    assert b"Tax number: T\n" in data
    # 24 characters twice over do not fit 32 columns: double height only (ESC ! 0x10).
    assert b"\x1b!\x10" in data and b"0000 0000 0000 0000 0000\n" in data
    assert data.endswith(b"\x1dV\x00")  # cut


@given(st.integers(-(10**12) + 1, 10**12 - 1), st.sampled_from(sorted(CURRENCY_DIGITS)))
def test_an_amount_reads_back_exactly(minor: int, currency: str) -> None:
    text = money_text(minor, currency)
    # Money.parse reads at most 12 digits before the point (a clerk's amount).
    code, _, amount = text.partition(" ")
    assert code == currency
    assert Money.parse(amount.lstrip("-").replace(",", ""), currency).minor == abs(minor)
    assert amount.startswith("-") == (minor < 0)


@given(st.integers(-(10**9), 10**9))
def test_units_read_back_exactly(tenths: int) -> None:
    number, _, unit = units_text(tenths, "gas").partition(" ")
    assert unit == "m³" and Decimal(number) * 10 == tenths


@given(st.text(min_size=0, max_size=200), st.text(max_size=15), st.integers(24, 80))
def test_paper_lines_keep_to_their_width(text: str, right: str, width: int) -> None:
    text, right = " ".join(text.split()), right.strip()
    for style in ("text", "pair", "note", "rule"):
        for row in wrap_line(Line(style, text, right), width):
            longest_word = max((len(w) for w in text.split()), default=0)
            assert len(row) <= max(width, longest_word + 2)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(True, "yes"), (False, "no"), (None, ""), ({"a": None, "b": True}, "a: , b: yes"),
     (3, "3"), (["x", 1], "x, 1")],
)  # fmt: skip
def test_table_cells_never_show_python_spellings(value: Any, shown: str) -> None:
    assert cell(value) == shown


@pytest.mark.parametrize(
    ("bp", "shown"), [(0, "0%"), (1500, "15%"), (1550, "15.5%"), (1, "0.01%"), (10000, "100%")]
)
def test_percentages_from_basis_points(bp: int, shown: str) -> None:
    assert percent_from_bp(bp) == shown


def test_prices_and_times_as_people_read_them() -> None:
    assert price_text("2.543200", "ZAR", "kWh") == "ZAR 2.5432/kWh"
    assert price_text("1500.000000", "UGX", "min") == "UGX 1,500/min"
    assert price_text(None, "ZAR") == ""
    assert time_text("2026-12-03T15:55:22.494174+00:00") == "2026-12-03 15:55:22 +00:00"
    assert time_text(None) == "" and time_text("2026-01-01T00:00:00") == "2026-01-01 00:00:00"
