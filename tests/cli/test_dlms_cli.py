"""``stsvend readings dlms-read``, ``stsvend meters relay`` and the readings-dlms worker part,
end to end: the CLI on SQLite and PostgreSQL, the meter simulator as a process on a free port.
Skipped without the ``dlms`` extra (gurux-dlms)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("gurux_dlms")

from tests.cli.conftest import Cli, M, drn
from tests.dlms.simproc import START, free_port, simulator


def _config(tmp_path: Path, meters: dict[str, str]) -> str:
    lines = ["[adapters.control.dlms]", *(f'{d} = "{a}"' for d, a in meters.items()),
             "timeout_seconds = 0.4", "attempts = 2", "backoff_seconds = 0.05",
             "[adapters.worker.readings-dlms]", "interval_seconds = 60"]  # fmt: skip
    path = tmp_path / "dlms.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_meter_read_once_is_stored_and_printed(cli: Cli, tmp_path: Path) -> None:
    with simulator(M[1], "--start", START, "--rate", "0", "--energy-wh", "1523250") as addr:
        cfg = _config(tmp_path, {M[1]: addr})
        out = cli.run("readings", "dlms-read", M[1], role="engineer", STSVEND_CONFIG=cfg)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == (
            f"meter {M[1]}: 1,523,250 Wh at 2026-11-01T00:00:00+00:00 (stored)")  # fmt: skip
        again = cli.json("readings", "dlms-read", M[1], "--json", role="admin",
                         STSVEND_CONFIG=cfg)  # fmt: skip
        assert again == {"drn": M[1], "read_at": "2026-11-01T00:00:00+00:00",
                         "energy_wh": 1523250, "outcome": "already stored"}  # fmt: skip
        refused = cli.run("readings", "dlms-read", M[1], role="clerk", STSVEND_CONFIG=cfg)
        assert refused.returncode == 6 and "may not" in refused.stderr
    outcomes = []
    for start, energy in (("2026-11-01T00:00Z", "1"), ("2026-11-01T01:00Z", "1000"),
                          ("2040-01-01T00:00Z", "1")):  # fmt: skip
        with simulator(M[1], "--start", start, "--rate", "0", "--energy-wh", energy) as addr:
            outcomes.append(cli.run("readings", "dlms-read", M[1], "--json",
                                    STSVEND_CONFIG=_config(tmp_path, {M[1]: addr})))  # fmt: skip
    conflict, backwards, future = outcomes
    assert json.loads(conflict.stdout)["outcome"] == "conflicting (the stored one kept)"
    assert json.loads(backwards.stdout)["outcome"] == "stored, flagged"
    assert future.returncode == 3 and "is refused: the time is before 2000 or in the future" in (
        future.stderr)  # fmt: skip
    listed = cli.json("readings", "list", M[1], role="engineer")
    assert [(r["energy_wh"], r["source"], r["flag"]) for r in listed["readings"]] == [
        (1523250, "dlms", None), (1000, "dlms", "backwards")]  # fmt: skip


def test_relay_disconnect_state_reconnect_logged(cli: Cli, tmp_path: Path) -> None:
    with simulator(M[2]) as addr:
        cfg = _config(tmp_path, {M[2]: addr})
        off = cli.run("meters", "relay", M[2], "--disconnect", role="engineer",
                      STSVEND_CONFIG=cfg)  # fmt: skip
        assert off.returncode == 0, off.stderr
        assert off.stdout.strip() == f"meter {M[2]}: disconnected, supply off (control mode 1)"
        state = cli.json("meters", "relay", M[2], "--state", "--json", STSVEND_CONFIG=cfg)
        assert (state["state"], state["output_state"], state["control_state"]) == (
            "disconnected", False, 0)  # fmt: skip
        on = cli.run("meters", "relay", M[2], "--reconnect", role="engineer",
                     STSVEND_CONFIG=cfg)  # fmt: skip
        assert on.stdout.strip() == f"meter {M[2]}: connected, supply on (control mode 1)"
        for role in ("clerk", "supervisor", "auditor"):
            refused = cli.run("meters", "relay", M[2], "--disconnect", role=role,
                              STSVEND_CONFIG=cfg)  # fmt: skip
            assert refused.returncode == 6 and "(allowed: engineer, admin)" in refused.stderr
    logged = cli.operations("meters.relay")
    assert [op for op, outcome, _ in logged if outcome == "refused"] == [
        "clerk", "supervisor", "auditor"]  # refusals are logged too
    logged = [entry for entry in logged if entry[1] != "refused"]
    assert [(op, outcome, d["command"], d["state"]) for op, outcome, d in logged] == [
        ("engineer", "ok", "disconnect", "disconnected"), ("admin", "ok", "state", "disconnected"),
        ("engineer", "ok", "reconnect", "connected")]  # fmt: skip


def test_relay_failures_are_one_line_and_logged(cli: Cli, tmp_path: Path) -> None:
    with simulator(M[3], "--fail-commands") as addr:
        cfg = _config(tmp_path, {M[3]: addr, M[1]: f"127.0.0.1:{free_port()}"})
        ignored = cli.run("meters", "relay", M[3], "--disconnect", STSVEND_CONFIG=cfg)
        assert ignored.returncode == 8
        assert ignored.stderr.strip().endswith(
            f"meter {M[3]}: no answer after 2 attempt(s): the meter at {addr} did not answer "
            "in 0.4 s")  # fmt: skip
        assert len(ignored.stderr.strip().splitlines()) == 1
        closed = cli.run("meters", "relay", M[1], "--state", STSVEND_CONFIG=cfg)
        assert closed.returncode == 8 and "cannot connect to the meter at" in closed.stderr
        unread = cli.run("readings", "dlms-read", M[1], STSVEND_CONFIG=cfg)
        assert unread.returncode == 8 and "no answer after 2 attempt(s)" in unread.stderr
        nowhere = cli.run("meters", "relay", M[5], "--state", STSVEND_CONFIG=cfg)
        assert nowhere.returncode == 8 and f"meter {M[5]} has no DLMS address" in nowhere.stderr
        unknown = cli.run("meters", "relay", drn(77), "--state", STSVEND_CONFIG=cfg)
        assert unknown.returncode == 5 and "is not registered" in unknown.stderr
        what = cli.run("meters", "relay", M[3], STSVEND_CONFIG=cfg)
        assert what.returncode == 3 and "--disconnect, --reconnect or --state" in what.stderr
        via = cli.run("meters", "relay", M[3], "--state", "--via", "nosuch", STSVEND_CONFIG=cfg)
        assert via.returncode == 8 and "no control adapter 'nosuch' (dlms, mqtt)" in via.stderr
    logged = cli.operations("meters.relay")
    assert [(o, d["command"]) for _, o, d in logged] == [("failed", "disconnect"),
                                                         ("failed", "state"),
                                                         ("failed", "state")]  # fmt: skip
    assert cli.sql("SELECT count(*) FROM meter_reading")[0][0] == 0


def test_the_worker_part_polls_the_meters(cli: Cli, tmp_path: Path) -> None:
    down = f"127.0.0.1:{free_port()}"
    with simulator(M[1], "--start", START, "--rate", "0", "--energy-wh", "4000") as one, \
            simulator(M[2], "--start", START, "--rate", "0", "--energy-wh", "9000") as two:
        cfg = _config(tmp_path, {M[1]: one, M[2]: two, M[3]: down})
        ran = cli.run("worker", "--once", "--part", "readings-dlms", role="engineer",
                      STSVEND_CONFIG=cfg)  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert '"event": "readings_dlms_failed"' in ran.stderr and M[3] in ran.stderr
    rows = cli.sql("SELECT m.drn, r.energy_wh, r.source FROM meter_reading r "
                   "JOIN meter m ON m.id = r.meter_id ORDER BY m.drn")  # fmt: skip
    assert [tuple(r) for r in rows] == [(M[1], 4000, "dlms"), (M[2], 9000, "dlms")]
    cfg = _config(tmp_path, {M[3]: down})
    failed = cli.run("worker", "--once", "--part", "readings-dlms", role="engineer",
                     STSVEND_CONFIG=cfg)  # fmt: skip
    assert failed.returncode == 8 and "no meter answered" in failed.stderr
    (tmp_path / "bad.toml").write_text("[adapters.worker.readings-dlms]\ninterval_seconds = 0\n")
    bad = cli.run("worker", "--once", "--part", "readings-dlms", role="engineer",
                  STSVEND_CONFIG=str(tmp_path / "bad.toml"))  # fmt: skip
    assert bad.returncode == 3 and "interval_seconds is 0.05 to 86400" in bad.stderr
