"""The reversal receipt names the customer and the contract, and the tokens it marks by TID and
amount: never their digits, which would read as a new sale."""

from __future__ import annotations

from tests.cli.conftest import Cli


def _grouped(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, 20, 4))


def test_the_reversal_receipt_shows_who_and_no_live_digits(cli: Cli) -> None:
    sale = cli.json("reprint", "1", role="clerk")  # the base's sale on M1 (contract K-1)
    [token] = [t for t in sale["tokens"] if t["purpose"] == "sale"]
    out = cli.ok("reverse", "1", "--reason", "customer paid twice", role="supervisor")
    assert "Contract K-1   Customer C-1" in out
    assert f"TID {token['tid']}" in out and "marked reversed (not revoked at the meter)" in out
    assert token["digits"] not in out and _grouped(token["digits"]) not in out
    receipt = int(out.split("Receipt ")[1].split()[0])
    again = cli.json("reprint", str(receipt), role="supervisor")
    assert (again["contract"], again["customer"]) == ("K-1", "C-1")
    assert again["tokens"] and all("digits" not in t for t in again["tokens"])
    assert again["tokens"][0]["tid"] == token["tid"]
    copy = cli.ok("reprint", str(receipt), role="supervisor")
    assert "*** COPY ***" in copy and _grouped(token["digits"]) not in copy
    # The original's reprint still hands its digits to whoever may reprint it, marked reversed.
    original = cli.ok("reprint", "1", role="supervisor")
    assert _grouped(token["digits"]) in original and "REVERSED" in original
