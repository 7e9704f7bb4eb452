"""What people read: tables and messages without Python's spellings, basis points, unformatted
prices or microsecond times; money in the currency's format, units in the meter's unit."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import Cli, M

#: What must never reach a person's screen.
RAW = (
    re.compile(r"\bTrue\b|\bFalse\b|\bNone\b"),
    re.compile(r"[{}]|\[\s*'"),
    re.compile(r"\bbp\b"),
    re.compile(r"\d\.\d{5,}\b"),  # a price with its internal six decimals
    re.compile(r"\d{2}:\d{2}:\d{2}\.\d+"),  # microseconds
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:"),  # ISO 8601 as stored
)


def _readable(text: str) -> None:
    for pattern in RAW:
        assert not pattern.search(text), (pattern.pattern, text)


@pytest.mark.parametrize(
    ("args", "role"),
    [
        (("meters", "show", M[1]), "admin"),
        (("meters", "list"), "admin"),
        (("tariffs", "list"), "admin"),
        (("customers", "list"), "admin"),
        (("operators", "list"), "admin"),
        (("supply-groups", "list"), "admin"),
        (("keys", "list"), "admin"),
        (("key-change", "report"), "admin"),
        (("report", "daily"), "admin"),
        (("report", "monthly"), "admin"),
        (("trial", M[2], "100"), "clerk"),
        (("reprint", "1"), "supervisor"),
        (("shift", "end"), "clerk"),
        (("meters", "limits", M[1], "--max", "500"), "admin"),
    ],
)
def test_tables_and_messages_are_for_people(cli: Cli, args: tuple[str, ...], role: str) -> None:
    _readable(cli.ok(*args, role=role))


def test_meter_and_tariff_tables_say_money_units_and_percent(cli: Cli) -> None:
    shown = cli.ok("meters", "show", M[1])
    assert "electricity (kWh)" in shown and "ZAR 20,000.00 (default)" in shown
    assert "contract" in shown and "K-1 (open)" in shown and "ZAR 0.00" in shown
    cli.ok("tariffs", "add", "WAT", "--name", "Water", "--block", "6:10.5", "--block", ":14.25",
           "--resource", "water", "--tax", "15.5", "--fixed-charge", "1250")  # fmt: skip
    tariffs = cli.ok("tariffs", "list")
    assert "up to 6.0 m³: ZAR 10.50/m³, then ZAR 14.25/m³" in tariffs
    assert "15.5%" in tariffs and "ZAR 1,250.00" in tariffs and "VAT bp" not in tariffs
    assert "ZAR 2.00/kWh" in tariffs and "10.0 kWh, repaid at 100% of purchases" in tariffs


def test_shift_end_shows_local_times_to_the_second(cli: Cli) -> None:
    out = cli.ok("shift", "end", role="clerk")
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+02:00 to ", out), out
