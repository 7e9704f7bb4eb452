"""The keypad simulator refuses unreadable profiles and state files, and a clock past the year
9999, with a message (status 1) or an error answer: never a traceback."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from stsvend_keypad.app import main
from stsvend_keypad.clock import SimClock
from stsvend_keypad.script_mode import run_script
from stsvend_keypad.session import Session
from tests.keypad.keypad_support import write_profile


def _app(*args: str, stdin: str = "") -> tuple[int, str, str]:
    with CliRunner().isolation(input=stdin) as streams:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return code, streams[0].getvalue().decode(), streams[1].getvalue().decode()


def test_advance_takes_ascii_digits_only(tmp_path: Path) -> None:
    session = Session.open(write_profile(tmp_path))
    for line in ("ADVANCE \uff11d", "WAIT \u06f59", "ADVANCE 1\u0660", "ADVANCE \U0001d7d9"):
        answer = session.execute(line)
        assert answer is not None and answer["ok"] is False, line
    assert session.execute("ADVANCE 10m")["ok"]  # type: ignore[index]


def test_a_state_file_with_an_impossible_accumulator(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    Session.open(profile).execute("LOAD 900")
    state = tmp_path / "meter.state.json"
    doc = json.loads(state.read_text(encoding="utf-8"))
    doc["meter"]["accumulator"] = 12345678901234567890123
    state.write_text(json.dumps(doc), encoding="utf-8")
    code, _out, err = _app("script", str(profile), stdin="ADVANCE 1h\n")
    assert code == 1 and "accumulator" in err and "Traceback" not in err, err


def test_a_profile_that_is_not_utf8(tmp_path: Path) -> None:
    profile = tmp_path / "meter.toml"
    profile.write_bytes(b'[meter]\ndrn = "\xff\xfe"\n')
    code, _out, err = _app("script", str(profile), stdin="PING\n")
    assert code == 1 and "not UTF-8" in err and "Traceback" not in err, err


def test_a_profile_nested_too_deeply(tmp_path: Path) -> None:
    profile = tmp_path / "meter.toml"
    profile.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    code, _out, err = _app("script", str(profile), stdin="PING\n")
    assert code == 1 and "nested too deeply" in err, err


def test_a_state_file_that_is_not_utf8(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    state = tmp_path / "state.json"
    state.write_bytes(b'{"format": "\xff"}')
    code, _out, err = _app("script", str(profile), "--state", str(state), stdin="PING\n")
    assert code == 1 and "not UTF-8" in err and "--reset" in err, err


def test_a_state_file_nested_too_deeply(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    state = tmp_path / "state.json"
    state.write_text("[" * 100_000 + "]" * 100_000)
    code, _out, err = _app("script", str(profile), "--state", str(state), stdin="PING\n")
    assert code == 1 and "not JSON" in err, err


def test_advance_past_year_9999_is_an_error_answer(tmp_path: Path) -> None:
    session = Session.open(write_profile(tmp_path))
    # A meter whose clock already stands in the last weeks of year 9999 (a state file can say so).
    session.clock = SimClock(datetime(9999, 11, 20, tzinfo=UTC))
    out = io.StringIO()
    lines = ["ADVANCE 3650d", "ADVANCE 5d", "ADVANCE 30d", "PING"]
    run_script(session, lines, out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    refused = [a for a in answers if not a["ok"]]
    assert [a["ok"] for a in answers] == [False, True, False, True]
    assert "9999" in refused[0]["error"]["message"]
    assert answers[-1]["command"] == "ping" and answers[-1]["ok"]
    # The saved state still opens.
    assert Session.open(write_profile(tmp_path)).execute("PING") is not None
