"""``stsvend shift end`` with the cash counted: the system's total, the difference, the record.

On SQLite and PostgreSQL: in-process with ``--cash-counted`` (a script's way), and at a
terminal, where the clerk is asked.
"""

from __future__ import annotations

from tests.cli.conftest import Cli, M
from tests.cli.counter_pty import CounterPty


def _shift_row(cli: Cli, shift: int) -> tuple[object, ...]:
    rows = cli.sql(
        "SELECT cash_counted, cash_expected, closed_at FROM shift WHERE id = :s", s=shift
    )
    return rows[0]


def test_the_cash_declared_and_the_difference(cli: Cli) -> None:
    cli.ok("vend", M[2], "10", role="clerk")  # the base's 20.00 and this 10.00
    report = cli.json("shift", "end", "--cash-counted", "25.50", role="clerk")
    assert report["cash"] == {"currency": "ZAR", "expected": 3000, "counted": 2550,
                              "difference": -450}  # fmt: skip
    counted, expected, closed = _shift_row(cli, report["shift"])
    assert (counted, expected) == (2550, 3000) and closed is not None
    ((operator, outcome, detail),) = cli.operations("shift.end")[-1:]
    assert (operator, outcome) == ("clerk", "ok")
    assert detail == {"cash_expected": 3000, "cash_counted": 2550, "cash_difference": -450}


def test_over_short_and_balanced_read_as_words(cli: Cli) -> None:
    out = cli.ok("shift", "end", "--cash-counted", "21", role="clerk")
    assert "cash: system ZAR 20.00, counted ZAR 21.00, over ZAR 1.00" in out
    cli.ok("shift", "start", role="clerk")
    cli.ok("vend", M[3], "15", role="clerk")
    assert "cash: system ZAR 15.00, counted ZAR 15.00, balanced" in cli.ok(
        "shift", "end", "--cash-counted", "15.00", role="clerk"
    )


def test_a_refund_is_cash_paid_out_of_the_supervisors_till(cli: Cli) -> None:
    cli.ok("shift", "end", "--cash-counted", "20", role="clerk")
    cli.ok("reverse", "1", "--reason", "wrong meter", role="supervisor")
    report = cli.json("shift", "end", "--cash-counted", "0", role="supervisor")
    assert report["cash"]["expected"] == -2000 and report["cash"]["difference"] == 2000


def test_a_bad_amount_closes_nothing(cli: Cli) -> None:
    for bad in ("-5", "1e3", "12,50", "１００", "", "12.555"):
        proc = cli.run("shift", "end", "--cash-counted", bad, role="clerk")
        assert proc.returncode == 3, (bad, proc.stderr)
        assert proc.stderr.startswith("error: ")
    assert cli.json("shift", "status", role="clerk")["shift"] is not None
    assert cli.operations("shift.end") == []


def test_without_a_terminal_or_the_option_the_cash_is_not_declared(cli: Cli) -> None:
    report = cli.json("shift", "end", role="clerk")
    assert report["cash"]["counted"] is None and report["cash"]["difference"] is None
    assert _shift_row(cli, report["shift"])[:2] == (None, 2000)
    cli.ok("shift", "start", role="clerk")
    assert "cash: system ZAR 0.00, not declared" in cli.ok("shift", "end", role="clerk")


def test_the_role_check_comes_before_the_amount(cli: Cli) -> None:
    proc = cli.run("shift", "end", "--cash-counted", "nonsense", role="clerk",
                   STSVEND_PIN="000000")  # fmt: skip
    assert proc.returncode == 6 and "wrong PIN" in proc.stderr


def test_at_a_terminal_the_clerk_is_asked_for_the_cash(cli: Cli) -> None:
    pty = CounterPty(cli.base_env("clerk"), "end", command="shift")  # the PIN from STSVEND_PIN
    try:
        pty.wait_for("Cash counted (ZAR): ")
        pty.line("19.5")
        assert "cash: system ZAR 20.00, counted ZAR 19.50, short ZAR 0.50" in pty.wait_for("anchor")
        assert pty.wait() == 0
    finally:
        pty.close()
    assert cli.sql("SELECT cash_counted FROM shift WHERE cash_counted IS NOT NULL") == [(1950,)]
