"""Known answers at the counter after a sale: reversal, reprint and the shift report.

Each test runs on a private copy of the pinned base (its clerk sold R20.00 on M1, receipt 1,
and its engineer issued a key change on M4, receipt 2), from 2026-03-10 07:30 UTC, one minute
per command, seeded alike (tests/kat/conftest.py).
"""

from __future__ import annotations

import re

from tests.kat.conftest import START, Kat
from tests.kat.support import answers, framed, replay, tid


def test_a_reversal(kat: Kat) -> None:
    sale, reversal = replay(kat, "reversal")
    assert (reversal["receipt"], reversal["reverses"], reversal["refund"]) == (4, 3, 10000)
    assert reversal["operator"] == "supervisor" and sale["operator"] == "clerk"
    # The token stays what it was (it cannot be revoked at the meter), named on the receipt by
    # its TID and amount, never by its digits (they would read as a new sale).
    assert reversal["tokens"] == [
        {k: v for k, v in token.items() if k != "digits"} for token in sale["tokens"]
    ]
    assert sale["tokens"][0]["digits"] == "49849164545060624553"
    assert reversal["customer"] == sale["customer"] == "C-2"
    assert reversal["notes"][0].startswith("REVERSED: the money is refunded")


def test_a_reprint_is_the_receipt_as_issued_marked_copy(kat: Kat) -> None:
    sale, copy = replay(kat, "reprint")
    assert copy["copy"] is True and copy["mark"] == "COPY"
    assert {k: v for k, v in copy.items() if k not in {"copy", "mark"}} == {
        k: v for k, v in sale.items() if k != "replayed"
    }
    # As printed for the clerk: the recorded receipt, in its frame.
    printed = framed(kat.text("reprint", "3", role="supervisor"))
    assert printed == answers("reprint")[1]["receipt"]
    assert printed[4:6] == ["SALE   Receipt 3", "*** COPY ***"]
    assert "    4984 9164 5450 6062 4553" in printed
    assert printed[-2:] == ["*** COPY ***", "*** TEST ***"]


def test_the_shift_report(kat: Kat) -> None:
    _, emergency, report = replay(kat, "shift_report")
    assert emergency["tokens"][0]["tid"] == tid(START) + 1
    # The base's R20.00 and this R100.00 (60.0 kWh), and the emergency credit's 10.0 kWh.
    totals = {
        line["kind"]: (line["count"], line["amount"], line["units"]) for line in report["totals"]
    }
    assert totals == {"credit": (2, 12000, 600), "emergency": (1, 0, 100)}
    # The anchor printed with the report verifies the whole log up to its seal.
    mac = report["anchor"]["mac"]
    assert re.fullmatch("[0-9a-f]{64}", mac)
    verified = kat.json("log", "verify", "--anchor", mac, role="auditor")
    assert verified["ok"] is True and verified["findings"] == []


def test_the_daily_report(kat: Kat) -> None:
    _, report = replay(kat, "daily_report")
    # The base's R20.00 and this R100.00; their VAT rounded per sale: 2.61 + 13.04.
    assert report["day"] == "2026-03-10" and report["from"] == "2026-03-10T00:00:00+02:00"
    assert report["tax"] == 261 + 1304
    assert {(t["class"], t["purpose"]): t["count"] for t in report["tokens"]} == {
        (0, "sale"): 2,
        (2, "key_change"): 2,
    }
