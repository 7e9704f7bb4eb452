"""The meter's display panel, drawn with rich from the meter's JSON view.

:func:`render_panel` is a pure function of the meter status (``Meter.status``), the keypad entry
and a message line, so it can be tested by rendering into a recording console.

>>> import io
>>> from rich.console import Console
>>> console = Console(record=True, width=90, color_system=None, file=io.StringIO())
>>> console.print(render_panel(EXAMPLE_STATUS, entry="1234", mode="token", message="ready"))
>>> screen = console.export_text()
>>> "CREDIT        20.0 kWh" in screen, "TOKEN > 1234 ____ ____" in screen
(True, True)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from stsvend.meter import RegisterKind

__all__ = ["EXAMPLE_STATUS", "KEY_HELP", "EntryMode", "format_entry", "render_panel"]

EntryMode = Literal["token", "load", "advance"]

KEY_HELP = (
    "0-9 digits · ⌫/* delete · Enter/# submit · Esc clear · "
    "l load · t time · h +1 h · e emergency · x tamper · q quit"
)

_PROMPTS: dict[EntryMode, str] = {"token": "TOKEN", "load": "LOAD W", "advance": "ADVANCE s"}


def format_entry(entry: str, mode: EntryMode) -> str:
    """The entry line: token digits in groups of four with blanks still to type.

    >>> format_entry("123456", "token")
    '1234 56__ ____ ____ ____'
    >>> format_entry("1500", "load")
    '1500_'
    """
    if mode != "token":
        return entry + "_"
    padded = (entry + "_" * 20)[: max(20, len(entry))]
    return " ".join(padded[i : i + 4] for i in range(0, len(padded), 4))


def _relay(status: dict[str, Any]) -> Text:
    closed = status["relay"] == "closed"
    return Text.assemble(
        ("● CLOSED", "bold green") if closed else ("○ OPEN", "bold red"),
        f"  {status['relay_reason']}",
    )


def _result(status: dict[str, Any], message: str) -> Text:
    last = status.get("last_result")
    if last is None:
        return Text("—")
    style = "bold green" if last["accepted"] else "bold red"
    return Text.assemble((f"{last['label']} ({last['code']})", style), f"  {last['message']}")


def _key_change(status: dict[str, Any]) -> Text:
    pending = status["pending_key_change"]
    if pending is None:
        return Text("—")
    ordinal = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}
    have = ", ".join(ordinal[s] for s in pending["sections"])
    want = ", ".join(ordinal[s] for s in pending["missing"])
    minutes, seconds = divmod(int(pending["seconds_left"]), 60)
    return Text(
        f"{have} entered — waiting for {want} ({minutes}:{seconds:02d} left)", style="bold yellow"
    )


def _emergency(status: dict[str, Any]) -> Text:
    em = status["emergency"]
    kind = RegisterKind.parse(status["credit"]["register"])
    if em["policy"] == "vending":
        return Text("issued by the vending system (token)")
    if em["policy"] == "none":
        return Text("—")
    if em["active"]:
        return Text(f"ON  owed {kind.format(em['owed'])}", style="bold yellow")
    return Text(f"available: {kind.format(em['allowance'])} (press e when credit is low)")


def render_panel(
    status: dict[str, Any],
    *,
    entry: str,
    mode: EntryMode,
    message: str,
    title: str | None = None,
) -> RenderableType:
    """The whole display: meter values, the entry line and the key help."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column()
    credit = status["credit"]
    grid.add_row(
        "CREDIT",
        Text.assemble((f" {credit['display']} ", "bold white on blue"), f"  {credit['register']}"),
    )
    grid.add_row("RELAY", _relay(status))
    limit = status["max_power_limit"]
    grid.add_row(
        "LOAD",
        Text(f"{status['load_watts']} W   limit {'none' if limit is None else f'{limit} W'}"),
    )
    grid.add_row("LAST RESULT", _result(status, message))
    grid.add_row("KEY CHANGE", _key_change(status))
    grid.add_row("EMERGENCY", _emergency(status))
    lock = status["lockout"]
    grid.add_row(
        "LOCKOUT",
        Text(f"{lock['seconds_left']} s  ({lock['failures']} wrong entries)", style="bold red")
        if lock["active"]
        else Text("—"),
    )
    if status["tamper"]:
        grid.add_row("TAMPER", Text("TAMPER", style="bold red"))
    key = status["key"]
    grid.add_row(
        "KEY",
        Text(
            f"SGC {int(key['sgc']):06d}  KRN {key['krn']}  TI {key['ti']:02d}  "
            f"KT {key['key_type']}  EA{key['ea']}  base {key['base_date']}  "
            f"KEN {key['ken']}"
        ),
    )
    when = datetime.fromisoformat(status["time"])
    grid.add_row("TIME", Text(when.strftime("%Y-%m-%d %H:%M:%S %Z")))
    entry_line = Text.assemble(
        (f"{_PROMPTS[mode]} > ", "bold"), (format_entry(entry, mode), "bold yellow")
    )
    body = Group(grid, Rule(style="dim"), entry_line, Text(message, style="dim"))
    heading = title or f"STS prepayment meter · DRN {status['drn']}"
    return Group(Panel(body, title=heading, border_style="blue"), Text(KEY_HELP, style="dim"))


#: A meter view for examples and tests (what ``Meter.status()`` returns, trimmed to the keys used).
EXAMPLE_STATUS: dict[str, Any] = {
    "time": "2024-06-01T08:00:00+00:00",
    "drn": "00000000000",
    "credit": {"register": "electricity", "value": 200, "display": "20.0 kWh"},
    "relay": "closed",
    "relay_reason": "supply on",
    "load_watts": 0,
    "max_power_limit": None,
    "tamper": False,
    "emergency": {"policy": "none", "active": False, "allowance": 0, "owed": 0},
    "key": {
        "sgc": 123456,
        "ti": 1,
        "krn": 1,
        "key_type": 2,
        "ea": "07",
        "base_date": 2014,
        "ken": 255,
    },
    "pending_key_change": None,
    "lockout": {"failures": 0, "active": False, "seconds_left": 0},
    "last_result": None,
}
