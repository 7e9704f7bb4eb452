"""The DLMS adapter against the meter simulator, over real TCP on this machine.

Each test starts the simulator as a process on a free port (``python -m
stsvend.adapters.dlms_sim``), with its clock stopped or running fast, and talks to it through
gurux-dlms's client on a socket.  Skipped without the ``dlms`` extra (gurux-dlms).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("gurux_dlms")

from stsvend.adapters.control import ControlResult, MeterControl
from stsvend.adapters.dlms_control import DlmsControl, addresses
from stsvend.adapters.dlms_wire import DlmsSession
from stsvend.adapters.registry import AdapterError, installed, load
from tests.cli.conftest import M
from tests.dlms.simproc import START, free_port, simulator, simulator_process

T0 = datetime(2026, 11, 1, tzinfo=UTC)
QUICK = {"timeout_seconds": 0.4, "attempts": 3, "backoff_seconds": 0.05}


def _host_port(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def test_the_registers_read_as_the_meter_holds_them() -> None:
    with simulator(M[1], "--start", START, "--rate", "0", "--energy-wh", "1523250") as addr:
        with DlmsSession(*_host_port(addr), timeout=3) as s:
            assert s.energy_wh() == 1_523_250
            assert s.clock() == T0
            assert s.serial() == M[1]
            assert s.relay() == (1, True, 1)
        got = DlmsControl({M[1]: addr}).read(M[1])
        assert (got.energy_wh, got.read_at, got.serial, got.attempts) == (1_523_250, T0, M[1], 1)


def test_the_register_advances_with_the_clock_at_the_load_and_not_while_disconnected() -> None:
    # 3600 simulated seconds a second: 2 kW adds 2,000 Wh a real second.
    with (simulator(M[1], "--start", START, "--rate", "3600", "--load-w", "2000") as addr,
          DlmsSession(*_host_port(addr), timeout=3) as s):
        first, at = s.energy_wh(), s.clock()
        time.sleep(0.5)
        second, later = s.energy_wh(), s.clock()
        hours = (later - at).total_seconds() / 3600
        assert hours > 0.4 and second > first
        assert abs((second - first) - 2000 * hours) < 2000 * 0.25
        s.invoke(1)
        off = s.energy_wh()
        time.sleep(0.3)
        assert s.energy_wh() == off  # no supply, no consumption
        assert s.clock() > later


def test_disconnect_then_state_then_reconnect() -> None:
    with simulator(M[2], "--rate", "0") as addr:
        control = DlmsControl({M[2]: addr})
        assert isinstance(control, MeterControl)
        off = control.disconnect(M[2])
        assert isinstance(off, ControlResult)
        assert (off.state, off.output_state, off.control_state) == ("disconnected", False, 0)
        assert control.state(M[2]).state == "disconnected"
        on = control.reconnect(M[2])
        assert (on.state, on.output_state, on.attempts) == ("connected", True, 1)
        assert control.state(M[2]).control_state == 1


def test_mode_2_reconnects_to_ready_for_reconnection_and_the_button_closes() -> None:
    with simulator_process(M[2], "--control-mode", "2") as (proc, addr):
        control = DlmsControl({M[2]: addr})
        control.disconnect(M[2])
        ready = control.reconnect(M[2])
        assert (ready.state, ready.output_state, ready.control_mode) == (
            "ready_for_reconnection", False, 2)  # fmt: skip
        proc.send_signal(signal.SIGUSR1)  # the customer presses the button
        deadline = time.monotonic() + 10
        while control.state(M[2]).state != "connected":
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_a_meter_in_mode_0_refuses_at_once() -> None:
    with simulator(M[2], "--control-mode", "0") as addr:
        started = time.monotonic()
        with pytest.raises(AdapterError, match=f"meter {M[2]}: the meter at .* error"):
            DlmsControl({M[2]: addr, **QUICK}).disconnect(M[2])
        assert time.monotonic() - started < 2  # an answer is not retried


def test_a_meter_that_ignores_commands_is_tried_again_then_a_clear_error() -> None:
    with simulator(M[3], "--fail-commands") as addr:
        control = DlmsControl({M[3]: addr, **QUICK})
        assert control.state(M[3]).state == "connected"  # reads still answered
        started = time.monotonic()
        with pytest.raises(AdapterError) as err:
            control.disconnect(M[3])
        assert err.value.code == "adapter"
        assert err.value.message == (
            f"meter {M[3]}: no answer after 3 attempt(s): the meter at {addr} did not answer "
            "in 0.4 s")  # fmt: skip
        assert time.monotonic() - started >= 3 * 0.4 + 0.05 + 0.1


def test_a_closed_port_and_a_meter_that_drops_connections() -> None:
    port = free_port()
    with pytest.raises(AdapterError, match=r"no answer after 3 attempt\(s\): cannot connect"):
        DlmsControl({M[1]: f"127.0.0.1:{port}", **QUICK}).read(M[1])
    with (simulator(M[1], "--drop-connections") as addr,
          pytest.raises(AdapterError, match=r"after 2 attempt\(s\): .*closed the connection")):
        DlmsControl({M[1]: addr, **QUICK, "attempts": 2}).state(M[1])


def test_a_command_never_goes_to_a_meter_reporting_another_number() -> None:
    with (simulator(M[2]) as addr,
          pytest.raises(AdapterError, match=f"reports number {M[2]}, not {M[1]}: nothing")):
        DlmsControl({M[1]: addr}).disconnect(M[1])


def test_a_low_password(monkeypatch: pytest.MonkeyPatch) -> None:
    with simulator(M[1], "--password", "s3cret") as addr:
        monkeypatch.setenv("METER_PW", "s3cret")
        assert DlmsControl({M[1]: addr, "password_env": "METER_PW"}).state(M[1]).output_state
        monkeypatch.setenv("METER_PW", "wrong")
        with pytest.raises(AdapterError, match=r"refused the association: .*Authentication"):
            DlmsControl({M[1]: addr, "password_env": "METER_PW", **QUICK}).state(M[1])
        with pytest.raises(AdapterError, match="refused the association"):
            DlmsControl({M[1]: addr, **QUICK}).state(M[1])


def test_the_settings(tmp_path: Path) -> None:
    book = tmp_path / "meters.csv"
    book.write_text(f"drn,address\n{M[1]},10.0.0.5:4059\n{M[2]}, meter2.lan:4059\n")
    assert addresses({"meters_file": str(book), M[3]: "127.0.0.1:1"}) == {
        M[1]: ("10.0.0.5", 4059), M[2]: ("meter2.lan", 4059), M[3]: ("127.0.0.1", 1)}
    for bad, message in (({M[1]: "nohost"}, "host:port"), ({M[1]: "h:70000"}, "host:port"),
                         ({"meters_file": str(tmp_path / "none.csv")}, "cannot be read"),
                         ({"timeout_seconds": 0}, "timeout_seconds is a number"),
                         ({"attempts": True}, "attempts is a number")):  # fmt: skip
        with pytest.raises(AdapterError, match=message):
            DlmsControl(bad)
    book.write_text("drn,address\nx,1.2.3.4:1\n")
    with pytest.raises(AdapterError, match="meters_file line 2: no meter number"):
        DlmsControl({"meters_file": str(book)})
    with pytest.raises(AdapterError, match=f"meter {M[5]} has no DLMS address"):
        DlmsControl({}).state(M[5])


def test_it_is_registered_as_the_dlms_control_adapter() -> None:
    assert load("control", "dlms") is DlmsControl
    names = {(a.group, a.name): a.status for a in installed()}
    assert names[("control", "dlms")] == "ready"
    assert names[("worker", "readings-dlms")] == "not configured (needs: interval_seconds)"


def test_the_simulator_command() -> None:
    helped = subprocess.run([sys.executable, "-m", "stsvend.adapters.dlms_sim", "--help"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert helped.returncode == 0 and "--fail-commands" in helped.stdout
    script = Path(sys.executable).parent / "stsvend-dlms-sim"
    assert script.exists()
    with simulator(M[1]) as addr:  # its port taken: one line, no traceback
        taken = subprocess.run([str(script), "--port", addr.rsplit(":", 1)[1], "--drn", M[1]],
                               capture_output=True, text=True, timeout=60)  # fmt: skip
    assert taken.returncode == 1 and "cannot listen on" in taken.stderr
    assert "Traceback" not in taken.stderr
