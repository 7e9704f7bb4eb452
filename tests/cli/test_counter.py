"""``stsvend counter`` driven as a clerk drives it, through a terminal, on SQLite and PostgreSQL.

A shift at the counter (log in once; sell by meter number, contract and customer number;
reprint; end the shift with the cash counted), and every way it refuses or ends: a wrong PIN, a
role that may not sell, an unknown meter, a bad amount, a sale declined, the idle time, input
ending at the prompt or in the middle of a sale, the terminal hanging up, a sale left pending
by a crash.  Nothing of a session may be left on disk in clear: no PIN, no key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import KEK, PINS, Cli, M
from tests.cli.counter_pty import CounterPty

PROMPT = "(help)> "


@pytest.fixture
def start(cli: Cli) -> Iterator[object]:
    """Start ``stsvend counter`` on a terminal (at most one a test), closed afterwards."""
    started: list[CounterPty] = []

    def run(*args: str, **env: str) -> CounterPty:
        full = {**cli.base_env(None), **env}
        pty = CounterPty({k: v for k, v in full.items() if v}, *args)
        started.append(pty)
        return pty

    yield run
    for pty in started:
        pty.close()


def _login(pty: CounterPty, role: str = "clerk") -> str:
    pty.wait_for("Operator: ")
    pty.line(role)
    pty.wait_for("PIN: ")
    pty.line(PINS[role])
    return pty.wait_for(PROMPT)


def _sell(pty: CounterPty, wanted: str, amount: str) -> str:
    pty.line(wanted)
    pty.wait_for("Amount (ZAR")
    pty.line(amount)
    pty.wait_for("Sell? [y/N]")
    pty.line("y")
    return pty.wait_for("Receipt", PROMPT)


def _sales(cli: Cli) -> int:
    return int(cli.sql("SELECT count(*) FROM sale")[0][0])


def _nothing_in_clear(cli: Cli) -> None:
    # No file of the installation holds a PIN or the KEK (the database stores PIN hashes).
    for path in cli.data_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (*PINS.values(), KEK):
                assert secret.encode() not in data, (path, secret)


def test_a_shift_at_the_counter(cli: Cli, start: object) -> None:
    pty = start()  # type: ignore[operator]
    assert "shift" in _login(pty) and "goes on" in pty.seen
    by_meter = _sell(pty, M[2], "100")
    assert "SALE   Receipt 3" in by_meter and "Contract K-2" in by_meter
    assert "Credit 50.0 kWh" in by_meter
    assert "Customer C-3" in _sell(pty, "K-3", "50.00")
    assert "Contract K-4" in _sell(pty, "C-4", "10")
    pty.line("reprint")
    copy = pty.wait_for("COPY", PROMPT)
    assert "Receipt 5" in copy and "*** COPY ***" in copy
    pty.line("reprint 3")
    copy = pty.wait_for("COPY", PROMPT)
    assert "Receipt 3" in copy and "*** COPY ***" in copy
    pty.line("end")
    pty.wait_for("Cash counted (ZAR)? ")
    pty.line("twelve")
    pty.wait_for("refused: an amount must be plain digits", "Cash counted (ZAR)? ")
    pty.line("175.00")
    report = pty.wait_for("goodbye")
    # The base's 20.00 and these 160.00: 5.00 short.
    assert "cash: system ZAR 180.00, counted ZAR 175.00, short ZAR 5.00" in report
    assert pty.wait() == 0
    assert PINS["clerk"] not in pty.seen
    assert cli.sql("SELECT cash_counted, cash_expected FROM shift WHERE closed_at IS NOT NULL "
                   "AND cash_counted IS NOT NULL") == [(17500, 18000)]  # fmt: skip
    assert cli.operations("shift.end")[-1][2]["cash_difference"] == -500
    assert cli.operations("counter.end")[-1] == ("clerk", "ok", {"reason": "shift end",
                                                                 "sales": 3})  # fmt: skip
    assert cli.operations("login")[-1][:2] == ("clerk", "ok")
    _nothing_in_clear(cli)
    assert not list(cli.data_dir.glob("*.pending.json"))


def test_a_customer_with_two_meters_chooses_one(cli: Cli, start: object) -> None:
    cli.ok("customers", "open-account", "--customer", "C-1", "--contract", "K-5",
           "--meter", M[5], "--tariff", "FLAT")  # fmt: skip
    pty = start()  # type: ignore[operator]
    _login(pty)
    pty.line("C-1")
    listing = pty.wait_for("Which one (1-2")
    assert f"1. {M[1]}  contract K-1" in listing and f"2. {M[5]}  contract K-5" in listing
    pty.line("3")
    pty.wait_for("refused: choose 1 to 2", PROMPT)
    pty.line("C-1")
    pty.wait_for("Which one")
    pty.line("")
    pty.wait_for(PROMPT)
    pty.line("C-1")
    pty.wait_for("Which one")
    pty.line("2")
    pty.wait_for("Amount")
    pty.line("30")
    pty.wait_for("Sell?")
    pty.line("yes")
    assert f"Meter 600727 {M[5]}" in pty.wait_for("Receipt", PROMPT)
    pty.line("quit")
    pty.wait_for("your shift stays open")
    assert pty.wait() == 0
    assert cli.json("shift", "status", role="clerk")["shift"] is not None


def test_unknown_meter_bad_amounts_and_a_declined_sale_sell_nothing(
    cli: Cli, start: object
) -> None:
    before = _sales(cli)
    pty = start()  # type: ignore[operator]
    _login(pty)
    for wanted, says in ((M[7], f"no meter, contract or customer number '{M[7]}'"),
                         ("K-99", "no meter, contract or customer number 'K-99'"),
                         ("x" * 41, "type a meter number, a contract number or a customer"),
                         (M[6], f"meter {M[6]} has no open account")):  # fmt: skip
        pty.line(wanted)
        pty.wait_for(f"refused: {says}", PROMPT)
    pty.line(M[2])
    pty.wait_for("Amount")
    for bad in ("1e3", "12,50", "-5", "12.555", "１００", "0"):
        pty.line(bad)
        pty.wait_for("refused: ", "Amount")
    pty.line("")
    pty.wait_for("not sold: nothing was issued", PROMPT)
    pty.line(M[2])
    pty.wait_for("Amount")
    pty.line("100")
    pty.wait_for("Sell? [y/N]")
    pty.line("")
    pty.wait_for("not sold: nothing was issued", PROMPT)
    pty.line("quit")
    assert pty.wait() == 0
    assert _sales(cli) == before
    assert cli.operations("counter.end")[-1][2] == {"reason": "quit", "sales": 0}


def test_a_wrong_pin_is_refused(cli: Cli, start: object) -> None:
    pty = start("--operator", "clerk")  # type: ignore[operator]
    pty.wait_for("PIN: ")
    pty.line("000000")
    pty.wait_for("error: unknown operator or wrong PIN")
    assert pty.wait() == 6
    assert "000000" not in pty.seen
    assert cli.operations("login")[-1] == ("clerk", "refused", {"reason": "wrong PIN"})


def test_a_role_that_may_not_sell_is_refused_at_login(cli: Cli, start: object) -> None:
    pty = start()  # type: ignore[operator]
    pty.wait_for("Operator: ")
    pty.line("auditor")
    pty.wait_for("PIN: ")
    pty.line(PINS["auditor"])
    pty.wait_for("error: ")
    assert pty.wait() == 6
    assert cli.operations("vend")[-1][:2] == ("auditor", "refused")


def test_the_idle_time_ends_the_session(cli: Cli, start: object) -> None:
    pty = start("--idle-timeout", "2")  # type: ignore[operator]
    _login(pty)
    began = time.monotonic()
    pty.wait_for("no input for 2 s: the session has ended")
    assert pty.wait() == 0 and time.monotonic() - began >= 1.5
    assert cli.operations("counter.end")[-1][2] == {"reason": "idle", "sales": 0}
    # Idle in the middle of a sale: nothing is sold either.
    before = _sales(cli)
    pty = start(STSVEND_COUNTER_IDLE="2")  # type: ignore[operator]
    _login(pty)
    pty.line(M[2])
    pty.wait_for("Amount")
    pty.line("50")
    pty.wait_for("Sell?")
    pty.wait_for("no input for 2 s")
    assert pty.wait() == 0 and _sales(cli) == before
    for bad in ("0", "soon", "86401"):
        proc = cli.run("counter", "--idle-timeout", bad, role=None)
        assert proc.returncode == 3 and "--idle-timeout" in proc.stderr


def test_input_ending_at_the_prompt_or_in_a_sale(cli: Cli, start: object) -> None:
    pty = start()  # type: ignore[operator]
    _login(pty)
    pty.eof()
    pty.wait_for("input ended: session ended; your shift stays open")
    assert pty.wait() == 0
    before = _sales(cli)
    pty = start()  # type: ignore[operator]
    _login(pty)
    pty.line("K-2")
    pty.wait_for("Amount")
    pty.line("40")
    pty.wait_for("Sell? [y/N]")
    pty.eof()
    pty.wait_for("input ended in the middle of a sale: it was not made, nothing was issued")
    assert pty.wait() == 1
    assert _sales(cli) == before
    assert cli.operations("counter.end")[-1][2] == {"reason": "eof", "sales": 0}


def test_ctrl_c_abandons_the_sale_being_prepared(cli: Cli, start: object) -> None:
    before = _sales(cli)
    pty = start()  # type: ignore[operator]
    _login(pty)
    pty.line("K-2")
    pty.wait_for("Amount")
    pty.interrupt()
    pty.wait_for("cancelled: nothing was issued", PROMPT)
    pty.line("K-2")
    pty.wait_for("Amount")
    pty.line("20")
    pty.wait_for("Sell?")
    pty.interrupt()
    pty.wait_for("cancelled: nothing was issued", PROMPT)
    assert _sales(cli) == before
    _sell(pty, "K-2", "20")
    pty.line("quit")
    assert pty.wait() == 0 and _sales(cli) == before + 1


def test_the_terminal_hanging_up_ends_the_session(cli: Cli, start: object) -> None:
    pty = start()  # type: ignore[operator]
    _login(pty)
    _sell(pty, "K-2", "10")
    pty.hang_up()
    assert pty.wait() == 129
    assert cli.operations("counter.end")[-1][2] == {"reason": "hangup", "sales": 1}
    _nothing_in_clear(cli)


def _pending(cli: Cli, request_id: str, drn: str, amount: str) -> Path:
    path = cli.data_dir / "counter-T1-clerk.pending.json"
    path.write_text(json.dumps({"request_id": request_id, "drn": drn, "amount": amount}))
    path.chmod(0o600)
    return path


def test_a_sale_made_before_a_crash_is_never_sold_twice(cli: Cli, start: object) -> None:
    # The sale was written, then the counter died before printing: its receipt, once.
    cli.ok("vend", M[2], "60", "--request-id", "counter-crash-1", role="clerk")
    before = _sales(cli)
    path = _pending(cli, "counter-crash-1", M[2], "60")
    pty = start()  # type: ignore[operator]
    pty.wait_for("Operator: ")
    pty.line("clerk")
    pty.wait_for("PIN: ")
    pty.line(PINS["clerk"])
    pty.wait_for(f"A sale was not finished: meter {M[2]}, amount 60", "Finish it now")
    pty.line("")
    assert "repeated request" in pty.wait_for("Receipt 3", PROMPT)
    assert _sales(cli) == before and not path.exists()
    pty.line("quit")
    assert pty.wait() == 0


def test_a_sale_lost_before_it_was_written_is_made_once(cli: Cli, start: object) -> None:
    before = _sales(cli)
    path = _pending(cli, "counter-crash-2", M[3], "30")
    pty = start()  # type: ignore[operator]
    pty.wait_for("Operator: ")
    pty.line("clerk")
    pty.wait_for("PIN: ")
    pty.line(PINS["clerk"])
    pty.wait_for("Finish it now")
    pty.line("y")
    receipt = pty.wait_for("Receipt", PROMPT)
    assert "Contract K-3" in receipt and "repeated request" not in receipt
    assert _sales(cli) == before + 1 and not path.exists()
    pty.line("quit")
    assert pty.wait() == 0
    # Declined: the file goes, nothing is sold.
    _pending(cli, "counter-crash-3", M[3], "30")
    pty = start("--operator", "clerk")  # type: ignore[operator]
    pty.wait_for("PIN: ")
    pty.line(PINS["clerk"])
    pty.wait_for("Finish it now")
    pty.line("n")
    pty.wait_for("left unfinished", PROMPT)
    pty.line("quit")
    assert pty.wait() == 0 and _sales(cli) == before + 1 and not path.exists()


def test_the_kek_asked_once_and_a_new_pin_chosen_at_the_first_login(
    cli: Cli, start: object
) -> None:
    cli.ok("shift", "end", "--cash-counted", "20", role="clerk")
    cli.ok("operators", "add", "dan", "--role", "clerk", STSVEND_NEW_PIN="582914")
    pty = start(STSVEND_KEK="")  # type: ignore[operator]
    pty.wait_for("Operator: ")
    pty.line("dan")
    pty.wait_for("PIN: ")
    pty.line("582914")
    pty.wait_for("must choose a new PIN", "New PIN: ")
    pty.line("640172")
    pty.wait_for("New PIN again: ")
    pty.line("640172")
    pty.wait_for("Key-encryption key")
    pty.line(KEK)
    assert "dan: shift" in pty.wait_for("opened at terminal T1", PROMPT)
    _sell(pty, M[2], "10")
    pty.line("quit")
    assert pty.wait() == 0
    for secret in ("582914", "640172", KEK):
        assert secret not in pty.seen
    # A wrong KEK: refused before anything is sold.
    pty = start("--operator", "dan", STSVEND_KEK="")  # type: ignore[operator]
    pty.wait_for("PIN: ")
    pty.line("640172")
    pty.wait_for("Key-encryption key")
    pty.line("11" * 32)
    pty.wait_for("error: ")
    assert pty.wait() == 4


def test_the_counter_needs_a_terminal(cli: Cli) -> None:
    proc = cli.run("counter", role="clerk")
    assert proc.returncode == 3 and "runs at a terminal" in proc.stderr


def test_a_shift_ended_elsewhere_sells_nothing_more(cli: Cli, start: object) -> None:
    pty = start()  # type: ignore[operator]
    _login(pty)
    cli.ok("shift", "end", "--cash-counted", "20", role="clerk")
    before = _sales(cli)
    pty.line("K-2")
    pty.wait_for("has been closed: start a new session", PROMPT)
    pty.line("end")
    pty.wait_for("Cash counted")
    pty.line("0")
    pty.wait_for("refused: shift", "is already closed", PROMPT)
    pty.line("quit")
    assert pty.wait() == 0 and _sales(cli) == before
