"""``stsvend counter``: the clerk's counter, one login for the whole shift.

One resident process at a terminal: the operator logs in once (the PIN at a hidden prompt),
the keystore is opened once (the KEK from ``STSVEND_KEK``, ``STSVEND_KEK_FILE``,
``STSVEND_KEK_PASSPHRASE`` or a hidden prompt) and kept in this process's memory only, and a
shift is opened if none is.  Then, customer after customer: the meter (by meter number,
contract number or customer number; several: a list to choose from), the amount, the trial
figures, the confirmation, the sale and its receipt.  Inside the counter:

* ``reprint [RECEIPT]`` prints a receipt again (by default the session's last one);
* ``end`` ends the shift: the cash counted is asked for, the shift report shows the
  difference from the system's total;
* ``quit`` (or Ctrl-D at the prompt) ends the session, the shift stays open.

The session also ends after the idle time (``--idle-timeout``, default 900 s) and when the
terminal closes (``SIGHUP``).  Nothing of the session is left on disk in clear: no PIN, no key;
the only file it writes is the pending sale of :mod:`stsvend_cli.counter_sale`.

Exit codes: 0 when the session ends at the prompt (``quit``, ``end``, Ctrl-D, the idle time),
1 when input ends in the middle of a sale (nothing is sold), 129 when the terminal hangs up;
a refused login exits as any command does (docs/cli.md).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TYPE_CHECKING

import click

from stsvend_cli.common import ENV_OPERATOR, load_config, whole
from stsvend_cli.counter_term import SessionEnd, Terminal

if TYPE_CHECKING:
    from stsvend.config import Config
    from stsvend.services.context import Actor, Services
    from stsvend_cli.counter_sale import Counter

__all__ = ["ENV_IDLE", "counter"]

ENV_IDLE = "STSVEND_COUNTER_IDLE"
_KEK_VARIABLES = ("STSVEND_KEK", "STSVEND_KEK_FILE", "STSVEND_KEK_PASSPHRASE")
_HELP = (
    "Type a meter number, contract number or customer number to sell; "
    "`reprint [RECEIPT]`, `end` (end the shift, count the cash), `quit` (the shift stays open)."
)
_EXIT = {"eof-mid-sale": 1, "hangup": 129}


def _login(term: Terminal, operator: str | None) -> Actor:
    """The operator's login (a new PIN if one is due); the role must be allowed to sell."""
    from stsvend.services.auth import PinChangeRequired, authorize, login
    from stsvend.vending.roles import Action
    from stsvend_cli.common import open_services

    name = operator or term.ask("Operator: ").strip()
    pin = term.ask("PIN: ", hidden=True)
    svc = open_services(keys=False)
    try:
        try:
            actor = login(svc, name, pin)
        except PinChangeRequired as exc:
            term.say(exc.message)
            new_pin = term.ask("New PIN: ", hidden=True)
            if term.ask("New PIN again: ", hidden=True) != new_pin:
                from stsvend.errors import InputError

                raise InputError("the two new PINs differ: nothing was changed") from None
            actor = login(svc, name, pin, new_pin=new_pin)
        authorize(svc, actor, Action.VEND)
    finally:
        svc.store.dispose()
    return actor


def _open(term: Terminal, config: Config) -> Services:
    """The services with the keystore open; the KEK asked for if the environment has none."""
    from stsvend.services.bootstrap import keystore_path, open_services

    env: dict[str, str] = dict(os.environ)
    if not any(env.get(name) for name in _KEK_VARIABLES) and keystore_path(config).exists():
        text = term.ask("Key-encryption key (64 hex digits, or the passphrase): ", hidden=True)
        cleaned = text.strip()
        is_hex = len(cleaned) == 64 and all(c in "0123456789abcdefABCDEF" for c in cleaned)
        env["STSVEND_KEK" if is_hex else "STSVEND_KEK_PASSPHRASE"] = cleaned if is_hex else text
    try:
        return open_services(config, env=env)
    finally:
        env.clear()  # the only copy of a typed KEK


def _warm_up() -> None:
    # What the first sale would otherwise import while the customer waits.
    import rich.panel
    import rich.table  # noqa: F401

    import stsvend.services.receipts
    import stsvend.services.vend  # noqa: F401
    import stsvend_cli.receipt  # noqa: F401


def _loop(counter: Counter) -> str:
    """Customer after customer until the session ends; returns how it ended."""
    term = counter.term
    while True:
        try:
            line = term.ask("\nMeter, contract or customer (help)> ").strip()
            if _command(counter, line):
                return "quit" if line != "end" else "shift end"
        except KeyboardInterrupt:  # Ctrl-C: what was being prepared is abandoned
            term.say("\ncancelled: nothing was issued")


def _command(counter: Counter, line: str) -> bool:
    """Do what the line says; True when it ends the session."""
    from stsvend.errors import StsError
    from stsvend_cli.shift_report import close_shift, show_shift_report

    word, _, rest = line.partition(" ")
    if line in {"help", "?"}:
        counter.term.say(_HELP)
    elif line in {"quit", "exit", "logout"}:
        return True
    elif line == "end":
        cash = counter.cash_counted()
        try:
            report = close_shift(counter.svc, counter.actor, cash)
        except StsError as exc:  # ended elsewhere meanwhile: say so, stay at the prompt
            counter.term.say(f"refused: {exc.message}")
            return False
        show_shift_report(report, counter.svc.config.zone)
        return True
    elif word == "reprint":
        counter.reprint(rest)
    elif line:
        counter.serve(line)
    return False


def _say_end(term: Terminal, reason: str, idle: int) -> None:
    messages = {
        "quit": "session ended; your shift stays open (`stsvend counter` to go on)",
        "shift end": "shift ended; goodbye",
        "idle": f"no input for {idle} s: the session has ended (your shift stays open; "
        "`stsvend counter` to log in again)",
        "eof": "input ended: session ended; your shift stays open",
        "eof-mid-sale": "input ended in the middle of a sale: it was not made, nothing was "
        "issued; the session has ended",
    }
    if reason in messages:
        term.say(messages[reason])


class _State:
    """What a session has opened so far (for its end, whenever it comes)."""

    def __init__(self) -> None:
        self.svc: Services | None = None
        self.counter: Counter | None = None


def _run(term: Terminal, config: Config, operator: str | None, state: _State) -> str:
    from stsvend.services.auth import start_shift
    from stsvend_cli.counter_sale import Counter

    actor = _login(term, operator)
    state.svc = svc = _open(term, config)
    if actor.shift_id is None:
        actor = start_shift(svc, actor)
        term.say(f"{actor.username}: shift {actor.shift_id} opened at terminal {actor.terminal}")
    else:
        term.say(f"{actor.username}: shift {actor.shift_id} goes on at terminal {actor.terminal}")
    _warm_up()
    state.counter = Counter(svc, actor, term)
    state.counter.finish_pending()
    term.say(_HELP)
    return _loop(state.counter)


def _finish(term: Terminal, state: _State, reason: str, idle: int) -> None:
    from stsvend.errors import StsError
    from stsvend.services.counter import end_session

    _say_end(term, reason, idle)
    if state.svc is not None and state.counter is not None:
        with contextlib.suppress(StsError):  # a store gone away: the end goes unrecorded
            end_session(state.svc, state.counter.actor, reason.removesuffix("-mid-sale"),
                        state.counter.sales)  # fmt: skip


@click.command()
@click.option("--operator", envvar=ENV_OPERATOR, metavar="NAME",
              help=f"Operator name (or {ENV_OPERATOR}; else you are asked).")  # fmt: skip
@click.option(
    "--idle-timeout", "idle_text", default="900", show_default=True, envvar=ENV_IDLE,
    metavar="SECONDS", help=f"End the session after this long without input (or {ENV_IDLE}).",
)  # fmt: skip
@click.pass_context
def counter(ctx: click.Context, operator: str | None, idle_text: str) -> None:
    """The counter: log in once, then sell customer after customer until the shift ends."""
    from stsvend.errors import InputError

    idle = whole(idle_text, "--idle-timeout", 1, 86_400)
    assert idle is not None  # it has a default
    if not sys.stdin.isatty():
        raise InputError("the counter runs at a terminal; scripts use `stsvend vend`")
    term = Terminal(float(idle))
    config = load_config()
    state = _State()
    term.install()
    try:
        try:
            reason = _run(term, config, operator, state)
        except SessionEnd as end:
            reason = "eof-mid-sale" if end.reason == "eof" and end.mid_sale else end.reason
        term.closing()
        _finish(term, state, reason, idle)
    finally:
        term.uninstall()
        if state.svc is not None:
            state.svc.store.dispose()
    ctx.exit(_EXIT.get(reason, 0))
