"""The simulated meter's relay and register, as properties: whatever the commands, the relay
is in one of its three states, the supply is on exactly when connected, a meter in mode 0
never moves, and the register never goes down (it stands still while disconnected)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsvend.adapters.dlms_sim import CONNECTED, DISCONNECTED, READY, MeterState

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(mode=st.sampled_from([0, 1, 2, 4]),
       steps=st.lists(st.sampled_from(["disconnect", "reconnect", "button"]), max_size=12))
def test_the_relay_follows_its_mode(mode: int, steps: list[str]) -> None:  # fmt: skip
    state = MeterState("01234567897", start=T0, rate=0.0, control_mode=mode)
    for step in steps:
        before = state.control_state
        if step == "button":
            state.press_button()
            assert state.control_state == (CONNECTED if before == READY else before)
            continue
        done = state.command(1 if step == "disconnect" else 2)
        assert done == (mode != 0)
        if mode == 0:
            assert state.control_state == CONNECTED
        elif step == "disconnect":
            assert state.control_state == DISCONNECTED
        elif before == DISCONNECTED:
            assert state.control_state == (CONNECTED if mode == 1 else READY)
        else:
            assert state.control_state == CONNECTED
        assert state.output_state == (state.control_state == CONNECTED)


def test_the_register_runs_only_while_connected() -> None:
    state = MeterState("01234567897", start=T0, rate=3600.0 * 100, energy_wh=10, load_w=1000)
    time.sleep(0.05)  # 5 simulated hours or more
    first = state.energy_wh()
    assert first >= 10 + 4_000
    state.command(1)
    stopped = state.energy_wh()
    time.sleep(0.02)
    assert state.energy_wh() == stopped >= first
    assert state.now() > T0


def test_without_gurux_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from stsvend.adapters.dlms_control import DlmsControl
    from stsvend.adapters.dlms_sim import main
    from stsvend.adapters.registry import AdapterError

    monkeypatch.setitem(sys.modules, "gurux_dlms", None)  # as if not installed
    with pytest.raises(AdapterError, match=r"needs gurux-dlms \(GPL-2.0\): pip install"):
        DlmsControl({"01234567897": "127.0.0.1:1"}).state("01234567897")
    assert main(["--port", "0", "--drn", "01234567897"]) == 1
    assert "pip install 'stsvend[dlms]'" in capsys.readouterr().err
