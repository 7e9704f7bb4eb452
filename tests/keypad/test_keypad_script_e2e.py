"""Script mode end to end: ``python -m stsvend_keypad script`` in a subprocess, as a rig runs it."""

from __future__ import annotations

from pathlib import Path

from tests.keypad.keypad_support import credit_token, json_lines, run_app, write_profile


def test_script_mode_runs_a_test_rig_session(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    token = credit_token(250, 60)
    script = "\n".join([
        "# a rig's session",
        "PING",
        "ADVANCE 2h",
        token,
        token,
        "LOAD 1500",
        "ADVANCE 4h",
        "READ",
        "BOGUS",
        "BYE",
        "PING",  # after BYE: not read
    ])  # fmt: skip
    out = run_app("script", str(profile), stdin=script)
    assert out.returncode == 0, out.stderr
    lines = json_lines(out.stdout)
    assert [line["step"] for line in lines] == list(range(1, 10))
    assert [line["command"] for line in lines] == [
        "ping", "advance", "token", "token", "load", "advance", "read", None, "bye",
    ]  # fmt: skip
    accepted, used = lines[2]["result"], lines[3]["result"]
    assert (accepted["code"], accepted["name"]) == (1, "accept")
    assert (used["code"], used["name"]) == (10, "used")
    assert lines[3]["meter"]["credit"] == "45.0 kWh"  # 20.0 to start + 25.0
    assert lines[5]["supply"]["debited"] == 60  # 1.5 kW for 4 h = 6.0 kWh
    assert lines[6]["meter"]["credit"]["display"] == "39.0 kWh"
    assert lines[7]["ok"] is False and lines[7]["error"]["code"] == "input"
    assert out.stderr == ""


def test_state_is_kept_between_runs(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    token = credit_token(100, 30)
    first = json_lines(run_app("script", str(profile), stdin=f"ADVANCE 1h\n{token}\n").stdout)
    assert first[-1]["result"]["name"] == "accept"
    assert (tmp_path / "meter.state.json").exists()
    second = json_lines(run_app("script", str(profile), stdin=f"{token}\nREAD\n").stdout)
    assert second[0]["result"]["name"] == "used"
    assert second[1]["meter"]["time"] == first[-1]["meter"]["time"]  # time stood still
    fresh = json_lines(
        run_app("script", str(profile), "--reset", stdin=f"ADVANCE 1h\n{token}\n").stdout
    )
    assert fresh[-1]["result"]["name"] == "accept"


def test_script_from_a_file_and_a_separate_state_file(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    script = tmp_path / "steps.txt"
    script.write_text("READ\n", encoding="utf-8")
    state = tmp_path / "elsewhere.json"
    out = run_app("script", str(profile), str(script), "--state", str(state),
                  "--start", "2024-07-01T00:00:00+0000")  # fmt: skip
    assert json_lines(out.stdout)[0]["meter"]["time"] == "2024-07-01T00:00:00+00:00"
    assert state.exists() and not (tmp_path / "meter.state.json").exists()


def test_errors_reach_the_user_as_messages_not_tracebacks(tmp_path: Path) -> None:
    bad = write_profile(tmp_path, "[meter]\ndrn = '123'\n", "bad.toml")
    out = run_app("script", str(bad), stdin="READ\n")
    assert out.returncode == 1
    assert "error (meter_config)" in out.stderr
    assert "drn must be 11 or 13 digits" in out.stderr
    assert "Traceback" not in out.stderr
    profile = write_profile(tmp_path)
    (tmp_path / "meter.state.json").write_text("{not json", encoding="utf-8")
    out = run_app("script", str(profile), stdin="READ\n")
    assert out.returncode == 1
    assert "use --reset" in out.stderr and "Traceback" not in out.stderr
    out = run_app("script", str(tmp_path / "missing.toml"))
    assert out.returncode == 2 and "does not exist" in out.stderr
    out = run_app("run", str(profile), "--reset", stdin="")
    assert out.returncode == 1 and "needs a terminal" in out.stderr


def test_new_profile_and_help(tmp_path: Path) -> None:
    target = tmp_path / "new.toml"
    out = run_app("new-profile", str(target))
    assert out.returncode == 0 and target.exists()
    assert "new.state.json" in out.stdout
    again = run_app("new-profile", str(target))
    assert again.returncode == 1 and "exists" in again.stderr
    assert run_app("new-profile", str(target), "--force").returncode == 0
    helped = run_app("--help")
    assert helped.returncode == 0
    for command in ("run", "script", "serial", "new-profile"):
        assert command in helped.stdout
