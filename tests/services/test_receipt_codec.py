"""The stored answer's codec without a store: version 2's shape as a known answer, every kind of
answer today's code wrote (the known answers' ``--json`` documents, the keys of version 1)
decoding to a receipt whose document is that answer again, round trips, and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.errors import StsError
from stsvend.services.receipt_codec import StoredAnswerError, decode, encode
from stsvend.services.receipt_model import (
    AccountCounters,
    Breakdown,
    BreakdownLine,
    KeyDataDoc,
    LineKind,
    MeterDoc,
    MonthCounters,
    SaleReceipt,
    StateBefore,
    TokenEntry,
)
from stsvend.services.results import as_doc
from stsvend.store.errors import StorageError
from stsvend.vending.tokenspec import TokenPurpose

ANSWERS = Path(__file__).resolve().parent.parent / "kat" / "answers"

#: A credit vend's answer (the known answer of tests/kat/answers/vend.json, typed).
CREDIT = SaleReceipt(
    kind="credit", request_id="73a9bef499bbf4dc7bd2a4f2c8af5bd9", at="2026-03-10T07:30:00+00:00",
    local_time="2026-03-10T09:30:00+02:00", operator="clerk", terminal="T1", test=True,
    utility="City Power", tax_number="VAT-4012345678",
    meter=MeterDoc("01000000024", "600727", resource="electricity", sgc="123456", krn=1, ti=1,
                   key_type=2, ea="07", base_date=2014),
    tokens=(TokenEntry("Credit", "49849164545060624553", 0, 0, TokenPurpose.SALE, tid=6409890,
                       base_date=2014, amount=500, sgc=123456, krn=1, ti=1, kcv="4578E6"),),
    unit="kWh", contract="K-2", customer="C-2", tariff="Flat",
    money=Breakdown("ZAR", 10000, 0, (BreakdownLine(LineKind.ENERGY, 10000, 500, 1, "2.000000"),),
                    1304, 1500, 0),
    units=500, key_change_first=False,
    state_before=StateBefore(AccountCounters(0, 0, 0), MonthCounters(0, False, False)),
)  # fmt: skip


def _receipt_documents() -> list[tuple[str, dict[str, Any]]]:
    """Every receipt-bearing ``--json`` document of the known answers, by session."""
    found = []
    for path in sorted(ANSWERS.glob("*.json")):
        for step in json.loads(path.read_text(encoding="utf-8")):
            doc = step["json"]
            if isinstance(doc, dict) and "receipt" in doc and "request_id" in doc:
                found.append((f"{path.stem}:{step['command'][0]}", doc))
    return found


DOCUMENTS = _receipt_documents()


def test_the_known_answers_hold_every_kind_of_receipt() -> None:
    kinds = {doc["kind"] for _, doc in DOCUMENTS}
    assert kinds == {"credit", "emergency", "free_issue", "engineering", "key_change", "reversal"}
    assert any("copy" in doc for _, doc in DOCUMENTS)  # and a reprint


def test_version_2_known_answer() -> None:
    assert encode(CREDIT) == {
        "version": 2,
        "kind": "credit", "request_id": "73a9bef499bbf4dc7bd2a4f2c8af5bd9",
        "at": "2026-03-10T07:30:00+00:00", "local_time": "2026-03-10T09:30:00+02:00",
        "operator": "clerk", "terminal": "T1", "test": True, "utility": "City Power",
        "tax_number": "VAT-4012345678",
        "meter": {"drn": "01000000024", "iin": "600727", "resource": "electricity",
                  "sgc": "123456", "krn": 1, "ti": 1, "key_type": 2, "ea": "07",
                  "base_date": 2014},
        "tokens": [{"label": "Credit", "digits": "49849164545060624553", "class": 0,
                    "subclass": 0, "purpose": "sale", "tid": 6409890, "base_date": 2014,
                    "amount": 500, "sgc": 123456, "krn": 1, "ti": 1, "kcv": "4578E6"}],
        "notes": [],
        "unit": "kWh", "contract": "K-2", "customer": "C-2", "tariff": "Flat",
        "money": {"currency": "ZAR", "tendered": 10000, "brought_forward": 0,
                  "lines": [{"kind": "energy", "amount": 10000, "units": 500, "block": 1,
                             "price": "2.000000"}],
                  "tax": 1304, "tax_bp": 1500, "carried_forward": 0},
        "units": 500, "key_change_first": False,
        "state_before": {"account": {"credit_balance": 0, "debt": 0, "emergency_debt": 0},
                         "month": {"units": 0, "fixed_charge_paid": False,
                                   "free_units_issued": False}},
    }  # fmt: skip


def test_the_version_is_in_the_stored_form_only() -> None:
    numbered = attrs.evolve(CREDIT, receipt=3, replayed=False)
    kat = json.loads((ANSWERS / "vend.json").read_text(encoding="utf-8"))[0]["json"]
    assert as_doc(numbered) == kat  # what `--json` prints: no version
    assert encode(numbered) == {**kat, "version": 2}


@pytest.mark.parametrize(("session", "doc"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_every_answer_todays_code_wrote_reads_back_whole(session: str, doc: dict[str, Any]) -> None:
    # As stored (version 1): the answer without its receipt number and replay mark.
    stored = {k: v for k, v in doc.items() if k not in ("receipt", "replayed")}
    receipt = decode(stored)
    assert as_doc(receipt) == stored
    assert decode(encode(receipt)) == receipt
    answer = attrs.evolve(receipt, receipt=doc["receipt"], replayed=doc.get("replayed"))
    assert as_doc(answer) == doc


def test_an_unknown_version_is_a_storage_error() -> None:
    stored = encode(CREDIT)
    for version in (3, 0, "2", None):
        with pytest.raises(StoredAnswerError, match="this stsvend reads versions 1 and 2") as err:
            decode({**stored, "version": version})
        assert isinstance(err.value, StorageError) and err.value.code == "storage"


@pytest.mark.parametrize(
    "doc",
    [[], {"kind": "credit"}, {**encode(CREDIT), "meter": {"drn": "1", "iin": "6", "colour": 1}},
     {**encode(CREDIT), "tokens": [{"label": "x"}]}],
    ids=["not an object", "no header", "unknown meter key", "token without class"],
)  # fmt: skip
def test_a_malformed_answer_is_a_storage_error(doc: Any) -> None:
    with pytest.raises(StoredAnswerError) as err:
        decode(doc)
    assert isinstance(err.value, StsError) and err.value.code == "storage"


_text = st.text(max_size=12)
_small = st.integers(0, 10**9)
_maybe_int = st.none() | _small
_tokens = st.builds(
    TokenEntry, label=_text, digits=st.none() | st.text("0123456789", min_size=20, max_size=20),
    token_class=st.integers(0, 2), subclass=st.integers(0, 15),
    purpose=st.sampled_from(TokenPurpose), tid=_maybe_int, base_date=_maybe_int,
    amount=_maybe_int, sgc=_maybe_int, krn=_maybe_int, ti=_maybe_int, kcv=st.none() | _text,
)  # fmt: skip
_meters = st.builds(
    MeterDoc, drn=_text, iin=_text, resource=st.none() | _text,
    sgc=st.none() | _text | _small, krn=_maybe_int, ti=_maybe_int, key_type=_maybe_int,
    ea=st.none() | _text, base_date=_maybe_int, ken=_maybe_int,
)  # fmt: skip
_money = st.builds(
    Breakdown, currency=_text, tendered=_small, brought_forward=_small,
    lines=st.lists(st.builds(BreakdownLine, kind=st.sampled_from(LineKind), amount=_small,
                             units=_small, block=_maybe_int, price=st.none() | _text),
                   max_size=3).map(tuple),
    tax=_small, tax_bp=_small, carried_forward=_small,
)  # fmt: skip
_states = st.builds(
    StateBefore,
    st.builds(AccountCounters, _small, _small, _small),
    st.builds(MonthCounters, _small, st.booleans(), st.booleans()),
)
_receipts = st.builds(
    SaleReceipt, kind=_text, request_id=_text, at=_text, local_time=_text, operator=_text,
    terminal=_text, test=st.booleans(), utility=_text, tax_number=_text,
    meter=st.none() | _meters, tokens=st.lists(_tokens, max_size=3).map(tuple),
    notes=st.lists(_text, max_size=2).map(tuple), unit=st.none() | _text,
    contract=st.none() | _text, customer=st.none() | _text, tariff=st.none() | _text,
    money=st.none() | _money, units=_maybe_int, key_change_first=st.none() | st.booleans(),
    state_before=st.none() | _states, debt=_maybe_int, currency=st.none() | _text,
    reason=st.none() | _text, engineering=st.none() | _text, value=_maybe_int,
    work_order=st.none() | _text, control=_maybe_int, manufacturer_code=_maybe_int,
    target=st.none() | st.builds(KeyDataDoc, _small, _small, _small, _small, _text, _small,
                                 _small),
    rollover=st.none() | st.booleans(), state=st.none() | _text, reverses=_maybe_int,
    refund=_maybe_int, receipt=_maybe_int, replayed=st.none() | st.booleans(),
    copy=st.none() | st.booleans(), mark=st.none() | _text, reversed_by=_maybe_int,
).map(
    # An engineering token's value goes with it: no other receipt has the key.
    lambda r: r if r.engineering is not None else attrs.evolve(r, value=None)
)  # fmt: skip


@given(_receipts)
def test_a_receipt_survives_its_stored_form(receipt: SaleReceipt) -> None:
    stored = json.loads(json.dumps(encode(receipt)))  # as the database gives it back
    assert stored["version"] == 2
    assert decode(stored) == receipt
    assert "version" not in as_doc(receipt)


@given(_receipts)
def test_an_answer_stored_without_a_version_reads_as_version_1(receipt: SaleReceipt) -> None:
    assert decode(json.loads(json.dumps(as_doc(receipt)))) == receipt
