"""Known answers for the engineer's tokens: class 2 settings and a single meter's key change.

Each test runs on a private copy of the pinned base at 2026-03-10 07:30 UTC, seeded alike
(tests/kat/conftest.py); the meter model, keyed from the published test keys, takes each token.
"""

from __future__ import annotations

import pytest

from stsvend.meter import ResultCode
from tests.cli.conftest import M
from tests.kat.conftest import START, Kat
from tests.kat.support import meter, replay, tid

# session, 20 digits, subclass, the value on the receipt, what the meter says it did
ENGINEERING = [
    ("max_power_limit", "22393034667295036613", 0, 5000,
     {"setting": "maximum power limit", "watts": 5000}),
    ("clear_credit", "13872846662851766315", 1, 0,
     {"setting": "clear credit", "registers": ["electricity"]}),
    ("clear_tamper", "08252859340888945235", 5, None, {"setting": "clear tamper"}),
    ("phase_unbalance_limit", "11419965942691582794", 6, 1500,
     {"setting": "phase power unbalance limit", "watts": 1500}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("session", "digits", "subclass", "value", "effect"),
    ENGINEERING,
    ids=[e[0] for e in ENGINEERING],
)
def test_an_engineering_token(
    kat: Kat, session: str, digits: str, subclass: int, value: int | None, effect: dict[str, object]
) -> None:
    (issued,) = replay(kat, session)
    assert issued["engineering"] == session and issued["value"] == value
    assert issued["work_order"] == "WO-17" and issued["receipt"] == 3
    (token,) = issued["tokens"]
    assert (token["digits"], token["class"], token["subclass"]) == (digits, 2, subclass)
    assert token["tid"] == tid(START)
    result = meter(M[5]).enter(digits, START)
    assert (result.code, result.token_class, result.subclass) == (ResultCode.ACCEPT, 2, subclass)
    assert result.tid == token["tid"] and result.effect == effect


def test_a_key_change_for_one_meter(kat: Kat) -> None:
    (change,) = replay(kat, "key_change")
    assert change["state"] == "issued" and change["reason"] == "krn"
    assert (change["meter"]["krn"], change["target"]["krn"]) == (1, 2)
    first, second = change["tokens"]
    assert (first["digits"], first["subclass"]) == ("26346847887243365169", 3)
    assert (second["digits"], second["subclass"]) == ("53239650583292121071", 4)
    m = meter(M[6])
    assert m.enter(first["digits"], START).code is ResultCode.KCT1_ENTERED
    result = m.enter(second["digits"], START)
    assert result.code is ResultCode.ACCEPT
    target = {"sgc": 123456, "krn": 2, "key_type": 2, "ti": 1, "ken": 255, "base_date": 2014}
    assert result.effect["key_change"] == {**target, "rollover": False}
    assert m.status()["key"]["krn"] == 2
