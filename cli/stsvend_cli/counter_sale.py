"""One sale at the counter: find the meter, take the amount, show the trial, confirm, vend.

Each confirmed sale gets its own request id, written first to the session's *pending sale*
file (``counter-<terminal>-<operator>.pending.json`` in the data directory, mode 0600: the
meter, the amount and the id; never a PIN or a key) and removed once the receipt is printed.
If the counter dies in between (a crash, a power cut, a lost connection to the database), the
next login at that terminal offers to finish the sale with the same id: the store then answers
with the receipt first issued, or issues it now, never twice (docs/cli.md, *Repeated requests*).

>>> from stsvend.services.receipt_model import Breakdown, MeterDoc, TrialResult
>>> figures_lines(TrialResult("trial", "2026-03-10T07:00:00+00:00", "2026-03-10T09:00:00+02:00",
...     MeterDoc("01000000017", "600727"), "K-1", "Flat", Breakdown("ZAR", 10000, 0, (), 1304,
...     1500, 0), 500, "kWh", key_change_pending=False, test=False))[1]
'  amount ZAR 100.00 -> 50.0 kWh (VAT included ZAR 13.04)'
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from stsvend_cli.common import money, units
from stsvend_cli.counter_term import Terminal

if TYPE_CHECKING:
    from stsvend.services.context import Actor, Services
    from stsvend.services.receipt_model import TrialResult

__all__ = ["Counter", "PendingSale", "figures_lines"]

_YES = {"y", "yes"}


class PendingSale:
    """The sale being written, on disk until its receipt is printed (see the module doc)."""

    def __init__(self, data_dir: Path, terminal: str, operator: str) -> None:
        self.path = data_dir / f"counter-{terminal}-{operator}.pending.json"

    def read(self) -> dict[str, str] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable: nothing can be finished from it
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("request_id", "drn", "amount")
        ):
            return None
        return {k: data[k] for k in ("request_id", "drn", "amount")}

    def write(self, request_id: str, drn: str, amount: str) -> None:
        from stsvend.files import private_output

        with private_output(self.path) as out:
            json.dump({"request_id": request_id, "drn": drn, "amount": amount}, out)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def figures_lines(trial: TrialResult) -> list[str]:
    """The trial's figures for the clerk to read out before confirming."""
    doc = trial.money
    cur = doc.currency
    head = f"Meter {trial.meter.drn}  contract {trial.contract}  tariff {trial.tariff}"
    lines = [head + ("  TEST" if trial.test else "")]
    got = units(trial.units, trial.unit)
    lines.append(f"  amount {money(doc.tendered, cur)} -> {got} "
                 f"(VAT included {money(doc.tax, cur)})")  # fmt: skip
    for line in doc.lines:
        if line.kind.value != "energy":
            lines.append(f"  {line.kind.value.replace('_', ' ')}: {money(line.amount, cur)}")
    if doc.carried_forward:
        lines.append(f"  credit carried forward: {money(doc.carried_forward, cur)}")
    if trial.key_change_pending:
        lines.append("  key change tokens come first on the receipt")
    return lines


class Counter:
    """The sales of one session: its services, operator, terminal and the last receipt."""

    def __init__(self, svc: Services, actor: Actor, term: Terminal) -> None:
        self.svc = svc
        self.actor = actor
        self.term = term
        self.pending = PendingSale(svc.config.data_dir, actor.terminal, actor.username)
        self.sales = 0
        self.last_receipt: int | None = None

    # -- one customer ------------------------------------------------------------------------

    def serve(self, wanted: str) -> None:
        """The whole dialogue for the customer named by ``wanted`` (a refusal is said, and
        the counter goes on to the next customer)."""
        from stsvend.errors import StsError
        from stsvend.services.auth import require_open_shift

        try:
            require_open_shift(self.svc, self.actor)
            drn = self._choose(wanted)
            if drn is None:
                return
            amount, trial = self._amount(drn)
            if amount is None or trial is None:
                return
            for line in figures_lines(trial):
                self.term.say(line)
            answer = self.term.ask("Sell? [y/N] ", mid_sale=True).strip().lower()
            if answer not in _YES:
                self.term.say("not sold: nothing was issued")
                return
            self.sell(drn, amount, self.svc.new_request_id())
        except StsError as exc:
            self.term.say(f"refused: {exc.message}")

    def _choose(self, wanted: str) -> str | None:
        from stsvend.errors import InputError
        from stsvend.services.counter import describe, find_meters

        found = find_meters(self.svc, self.actor, wanted)
        if len(found) > 1:
            self.term.say(f"{wanted.strip()} names {len(found)} meters:")
            for number, meter in enumerate(found, 1):
                self.term.say(f"  {number}. {describe(meter)}")
            text = self.term.ask(f"Which one (1-{len(found)}, Enter: none)? ", mid_sale=True)
            if not text.strip():
                return None
            if not text.strip().isdigit() or not 1 <= int(text) <= len(found):
                raise InputError(f"choose 1 to {len(found)}, not {text.strip()!r}")
            found = (found[int(text) - 1],)
        meter = found[0]
        self.term.say(describe(meter))
        if meter.contract is None:
            raise InputError(f"meter {meter.drn} has no open account: nothing can be sold")
        return meter.drn

    def _amount(self, drn: str) -> tuple[str | None, TrialResult | None]:
        from stsvend.errors import StsError
        from stsvend.services.vend import trial

        currency = self.svc.config.currency
        while True:
            text = self.term.ask(f"Amount ({currency}, Enter: none)? ", mid_sale=True).strip()
            if not text:
                self.term.say("not sold: nothing was issued")
                return None, None
            try:
                return text, trial(self.svc, self.actor, drn, amount=text)
            except StsError as exc:  # a mistyped amount, or one over a limit: ask again
                self.term.say(f"refused: {exc.message}")

    # -- the sale itself ---------------------------------------------------------------------

    def sell(self, drn: str, amount: str, request_id: str) -> None:
        """Vend under ``request_id`` and print the receipt; the pending sale file covers the
        moment between the two."""
        from stsvend.errors import StsError
        from stsvend.services.vend import vend
        from stsvend.store.errors import StorageError
        from stsvend_cli.receipt import print_receipt

        with self.term.busy():
            self.pending.write(request_id, drn, amount)
            try:
                result = vend(self.svc, self.actor, drn, amount, request_id=request_id)
            except StorageError:
                # Whether it was written is unknown: the pending sale stays for a retry.
                self.term.say(f"the sale's outcome is unknown; it is kept as {request_id}")
                raise
            except StsError:
                self.pending.clear()  # refused before anything was written
                raise
            self.sales += 0 if result.replayed else 1
            self.last_receipt = result.receipt
            # Made but not shown (the terminal has gone): the pending sale stays, and the next
            # login at this terminal prints its receipt (a replay: nothing is issued again).
            if not self.term.hung_up:
                print_receipt(result)
                self.pending.clear()

    def finish_pending(self) -> None:
        """At login: offer to finish a sale a previous session left unfinished here."""
        from stsvend.errors import StsError

        left = self.pending.read()
        if left is None:
            self.pending.clear()
            return
        self.term.say(f"A sale was not finished: meter {left['drn']}, amount {left['amount']} "
                      f"(request {left['request_id']}).")  # fmt: skip
        answer = self.term.ask("Finish it now (its receipt if it was made)? [Y/n] ")
        if answer.strip().lower() not in _YES | {""}:
            self.pending.clear()
            self.term.say("left unfinished: if it was made, `reprint` finds its receipt")
            return
        try:
            self.sell(left["drn"], left["amount"], left["request_id"])
        except StsError as exc:
            self.term.say(f"refused: {exc.message}")

    # -- other commands ----------------------------------------------------------------------

    def reprint(self, argument: str) -> None:
        from stsvend.errors import InputError, StsError
        from stsvend.services.receipts import reprint
        from stsvend_cli.receipt import print_receipt

        target: str | int | None = argument.strip() or self.last_receipt
        try:
            if target is None:
                raise InputError("no receipt yet in this session: reprint NUMBER")
            print_receipt(reprint(self.svc, self.actor, target))
        except StsError as exc:
            self.term.say(f"refused: {exc.message}")

    def cash_counted(self) -> int:
        """The cash the clerk counted, asked until it reads as an amount."""
        from stsvend.errors import StsError
        from stsvend_cli.shift_report import parse_cash

        currency = self.svc.config.currency
        while True:
            text = self.term.ask(f"Cash counted ({currency})? ")
            try:
                return parse_cash(text, currency)
            except StsError as exc:
                self.term.say(f"refused: {exc.message}")
