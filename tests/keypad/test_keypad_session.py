"""The command language, the session, the clock and the state file, in-process."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.errors import InputError
from stsvend.meter import MeterStateError
from stsvend_keypad.clock import SimClock
from stsvend_keypad.commands import MAX_LINE, VERBS, Command, parse_line
from stsvend_keypad.session import Session
from stsvend_keypad.store import StateStore
from tests.keypad.keypad_support import MANUFACTURED, credit_token, write_profile


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("12345678901234567890", Command("token", "12345678901234567890")),
        ("1234-5678-9012-3456-7890", Command("token", "12345678901234567890")),
        ("token 1234 5678", Command("token", "12345678")),
        ("LOAD 0250", Command("load", "250")),
        ("wait 2d", Command("advance", "172800")),
        ("Advance 45", Command("advance", "45")),
        ("status", Command("read")),
        ("quit", Command("bye")),
        ("EMERGENCY", Command("emergency")),
        ("tamper", Command("tamper")),
        ("help", Command("help")),
        ("ping", Command("ping")),
        ("", None),
        ("   # comment", None),
    ],
)
def test_parse_line(line: str, command: Command | None) -> None:
    assert parse_line(line) == command


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("launch", "unknown command"),
        ("LOAD", "needs an argument"),
        ("LOAD -5", "whole watts"),
        ("LOAD 1.5", "whole watts"),
        ("ADVANCE soon", "duration"),
        ("ADVANCE 99999d", "at most 3650 days"),
        ("READ now", "takes no argument"),
        ("x" * (MAX_LINE + 1), "longer than"),
    ],
)
def test_parse_line_errors(line: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_line(line)


@given(st.text(max_size=300))
def test_any_line_parses_or_raises_an_input_error(line: str) -> None:
    try:
        command = parse_line(line)
    except InputError as err:
        assert err.code == "input"
    else:
        assert command is None or command.verb in VERBS


def test_session_answers_and_state(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    session = Session.open(profile)
    assert session.execute("") is None
    token = credit_token(50, 5)
    answer = session.execute("ADVANCE 10m")
    assert answer is not None and answer["step"] == 1
    answer = session.execute(token)
    assert answer is not None and answer["result"]["name"] == "accept"
    assert session.last_message.endswith(": Accept")
    tamper = session.execute("TAMPER")
    assert tamper is not None and tamper["meter"]["relay_reason"] == "tamper"
    helped = session.execute("HELP")
    assert helped is not None and any("ADVANCE" in c for c in helped["commands"])
    emergency = session.execute("EMERGENCY")
    assert emergency is not None and emergency["ok"] is False
    assert emergency["error"]["code"] == "emergency_credit"
    reopened = Session.open(profile)
    assert reopened.meter.state == session.meter.state
    assert reopened.last_result is not None and reopened.last_result.code == 1


def test_corrupt_state_files(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    state = tmp_path / "meter.state.json"
    state.write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(MeterStateError, match="not a stsvend-keypad state file"):
        Session.open(profile)
    state.write_text(json.dumps({"format": "stsvend-keypad-state", "meter": {}}), encoding="utf-8")
    with pytest.raises(MeterStateError, match="not a stsvend meter state snapshot"):
        Session.open(profile)
    assert Session.open(profile, reset=True).meter.credit == 200


def test_state_file_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "s.json")
    store.save({"a": 1})
    assert os.stat(store.path).st_mode & 0o777 == 0o600
    assert not (tmp_path / "s.json.tmp").exists()
    with pytest.raises(MeterStateError, match="cannot save"):
        StateStore(tmp_path / "missing-folder" / "s.json").save({})
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(MeterStateError, match="cannot read"):
        StateStore(tmp_path / "dir.json").load()


def test_clock_modes() -> None:
    ticks = iter([0, 1_500_000_000, 4_000_000_000])  # ns: the app's start, then two readings
    wall = SimClock(MANUFACTURED, "wall", monotonic_ns=lambda: next(ticks))
    assert wall.now() == MANUFACTURED + timedelta(seconds=1.5)
    wall.advance(60)
    assert wall.now() == MANUFACTURED + timedelta(seconds=64)
    manual = SimClock(MANUFACTURED)
    assert manual.mode == "manual" and manual.now() == MANUFACTURED
    with pytest.raises(ValueError, match="forward"):
        manual.advance(-1)


def test_new_meter_without_a_manufacture_date_is_built_now(tmp_path: Path) -> None:
    text = write_profile(tmp_path).read_text(encoding="utf-8")
    undated = text.replace("manufactured = 2024-06-01T08:00:00Z", "")
    profile = write_profile(tmp_path, undated, "undated.toml")
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert Session.open(profile).meter.state.clock >= before  # the shell read the real clock
    started = Session.open(profile, reset=True, start=MANUFACTURED)
    assert started.meter.state.clock == MANUFACTURED


def test_big_loads_and_short_tokens_are_answers_not_crashes(tmp_path: Path) -> None:
    session = Session.open(write_profile(tmp_path))
    load = session.execute("LOAD 99999999999")
    assert load is not None and load["meter"]["load_watts"] == 99_999_999_999
    token = session.execute("TOKEN 1")
    assert token is not None and token["result"]["name"] == "format"
    advance = session.execute("ADVANCE 1d")
    assert advance is not None and advance["meter"]["relay"] == "open"
    assert advance["supply"]["relay_opened_at"] is not None
