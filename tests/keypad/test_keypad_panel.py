"""The display panel and the keypad logic, without a terminal; and the app modules' doctests."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import stsvend_keypad
from stsvend_keypad.interactive import KeypadUI, split_keys
from stsvend_keypad.panel import EXAMPLE_STATUS, format_entry, render_panel
from stsvend_keypad.session import Session
from tests.keypad.keypad_support import credit_token, key_change_tokens, write_profile

MODULES = sorted(m.name for m in pkgutil.iter_modules(stsvend_keypad.__path__, "stsvend_keypad."))


def screen_of(renderable: Any) -> str:
    console = Console(record=True, width=110, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def ui_for(tmp_path: Path) -> KeypadUI:
    return KeypadUI(Session.open(write_profile(tmp_path)))


def press(ui: KeypadUI, keys: str) -> None:
    for key in keys:
        assert ui.handle_key(key)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    assert doctest.testmod(module).failed == 0
    assert isinstance(module.__all__, list)


def test_panel_shows_every_state() -> None:
    status = dict(EXAMPLE_STATUS)
    status |= {
        "relay": "open",
        "relay_reason": "tamper",
        "tamper": True,
        "max_power_limit": 5000,
        "pending_key_change": {"sections": [2], "missing": [1], "seconds_left": 75},
        "lockout": {"failures": 4, "active": True, "seconds_left": 20},
        "emergency": {"policy": "meter", "active": True, "allowance": 50, "owed": 12},
        "last_result": {"code": 13, "label": "CRC error", "accepted": False, "message": "no"},
    }
    screen = screen_of(render_panel(status, entry="", mode="load", message="hello"))
    for text in ("○ OPEN  tamper", "limit 5000 W", "2nd entered — waiting for 1st (1:15 left)",
                 "20 s  (4 wrong entries)", "ON  owed 1.2 kWh", "CRC error (13)", "TAMPER",
                 "LOAD W > _", "hello"):  # fmt: skip
        assert text in screen, text
    vending = status | {"emergency": {**status["emergency"], "policy": "vending"}}
    assert "issued by the vending system" in screen_of(
        render_panel(vending, entry="9", mode="advance", message="")
    )
    assert format_entry("1" * 20, "token") == "1111 1111 1111 1111 1111"


def test_typing_correcting_and_entering_a_token(tmp_path: Path) -> None:
    ui = ui_for(tmp_path)
    token = credit_token(40, 1)
    press(ui, "t60\r")  # let a minute pass so the token is after manufacture
    press(ui, token[:10] + "9")
    press(ui, "\x7f")  # backspace
    press(ui, token[10:] + "5555")  # extra digits beyond 20 are ignored
    assert ui.entry == token
    press(ui, "#")
    assert ui.entry == "" and ui.session.meter.credit == 240
    assert "Accept" in ui.session.last_message
    assert "Accept (1)" in screen_of(ui.render())


def test_modes_escape_and_actions(tmp_path: Path) -> None:
    ui = ui_for(tmp_path)
    press(ui, "l12\x1b")  # Esc abandons the load entry
    assert (ui.mode, ui.entry, ui.session.meter.state.load_watts) == ("token", "", 0)
    press(ui, "L3000\n")
    assert ui.session.meter.state.load_watts == 3000
    press(ui, "h")
    assert ui.session.meter.credit == 170
    press(ui, "T\r")  # nothing typed: nothing happens
    press(ui, "e")
    assert "above the emergency threshold" in ui.session.last_message
    press(ui, "x")
    assert ui.session.meter.state.tamper
    for key in split_keys("\x1b[A?"):  # arrows and unknown keys are ignored
        assert ui.handle_key(key)
    press(ui, "*")
    assert ui.handle_key("q") is False


def test_key_change_pending_on_the_panel(tmp_path: Path) -> None:
    ui = ui_for(tmp_path)
    press(ui, key_change_tokens()[1] + "\r")
    screen = screen_of(ui.render())
    assert "2nd KCT entered (3)" in screen and "waiting for 1st (10:00 left)" in screen


def test_keys_of_a_meter_that_is_wrongly_configured(tmp_path: Path) -> None:
    text = write_profile(tmp_path).read_text().replace('policy = "meter"', 'policy = "none"')
    text = text.replace('allowance = "5.0"', "").replace('threshold = "2.0"', "")
    ui = KeypadUI(Session.open(write_profile(tmp_path, text, "plain.toml")))
    press(ui, "e")
    assert "no emergency credit" in ui.session.last_message
