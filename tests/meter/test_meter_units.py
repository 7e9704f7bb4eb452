"""The small concepts on their own: TID memory, consumption, relay table, registers, results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.meter import RELAY_TABLE, LockoutPolicy, RegisterKind, Result, ResultCode, TidMemory
from stsvend.meter.consumption import KWH, UNIT_STEP, draw
from stsvend.meter.lockout import Lockout
from stsvend.meter.relay import RelayState
from tests.meter.meter_support import T0


@given(st.integers(1, 8), st.lists(st.integers(0, 2**24 - 1), max_size=40))
def test_tid_memory_against_a_plain_model(depth: int, tids: list[int]) -> None:
    memory = TidMemory.seeded(depth, 1000)
    kept = [1000]
    for tid in tids:
        expected = "used" if tid in kept else ("old" if tid < min(kept) else None)
        assert memory.check(tid) == expected
        if expected is None:
            memory = memory.remember(tid)
            kept = sorted([*kept, tid])[-depth:]
        assert list(memory.tids) == kept


def test_tid_memory_refuses_misuse() -> None:
    memory = TidMemory.seeded(2, 10)
    with pytest.raises(ValueError, match="used"):
        memory.remember(10)
    with pytest.raises(ValueError, match="do not fit"):
        TidMemory(1, (1, 2))
    with pytest.raises(ValueError, match="each TID once"):
        TidMemory(3, (1, 1))
    assert memory.cleared().check(0) is None
    assert memory.cleared().oldest is None


@given(
    credit=st.integers(-100, 10_000),
    allowance=st.integers(0, 100),
    acc=st.integers(0, UNIT_STEP - 1),
    load=st.integers(0, 100_000),
    elapsed=st.integers(0, 10**12),
)
def test_draw_conserves_energy_and_respects_the_floor(
    credit: int, allowance: int, acc: int, load: int, elapsed: int
) -> None:
    floor = -allowance
    out = draw(credit=credit, floor=floor, accumulator=acc, load_watts=load, elapsed_us=elapsed,
               weight=1, step=UNIT_STEP)  # fmt: skip
    assert out.credit >= min(floor, credit)
    assert 0 <= out.accumulator < UNIT_STEP
    if credit <= floor:
        assert (out.credit, out.energy_wus, out.exhausted) == (credit, 0, True)
    elif not out.exhausted:
        assert out.ran_us == elapsed
        assert (credit - out.credit) * UNIT_STEP + out.accumulator - acc == load * elapsed
    else:
        assert out.credit == floor
        assert out.ran_us <= elapsed
        # The supply ran just long enough to use up what was available.
        available = (credit - floor) * UNIT_STEP - acc
        assert load * (out.ran_us - 1) < available <= load * out.ran_us


def test_currency_draw_uses_the_price() -> None:
    out = draw(credit=250_000, floor=0, accumulator=0, load_watts=1000, elapsed_us=3600 * 10**6,
               weight=250_000, step=KWH)  # fmt: skip
    assert out.credit == 0 and out.exhausted and out.ran_us == 3600 * 10**6


def test_relay_table_lists_every_row_and_closes_only_when_all_is_well() -> None:
    assert len(RELAY_TABLE) == 8
    for (tamper, credit, within), decision in RELAY_TABLE.items():
        assert (decision.state is RelayState.CLOSED) == (not tamper and credit and within)
        assert decision.closed == (decision.state is RelayState.CLOSED)


def test_register_kinds() -> None:
    assert RegisterKind.parse("Water-Currency") is RegisterKind.WATER_CURRENCY
    assert RegisterKind.parse(3) is RegisterKind.TIME
    time = RegisterKind.TIME  # mypy takes ``Member.format`` for str.format on an enum literal
    assert time.format(-15) == "-1.5 min"
    assert RegisterKind.GAS_CURRENCY.scale == 100_000
    with pytest.raises(ValueError, match="unknown register"):
        RegisterKind.parse("steam")


def test_result_round_trip_and_text() -> None:
    result = Result(ResultCode.USED, "TID 5 has been used", 0, 0, 5)
    assert Result.from_dict(result.as_dict()) == result
    assert str(result) == "Err 10 Used: TID 5 has been used"
    assert result.as_dict()["name"] == "used"


def test_lockout_policy_validation_and_long_runs() -> None:
    with pytest.raises(ValueError, match="threshold"):
        LockoutPolicy(threshold=0)
    with pytest.raises(ValueError, match="threshold"):
        LockoutPolicy(first_seconds=20, max_seconds=10)
    assert LockoutPolicy().duration(10_000) == 1280
    lock = Lockout(5, T0 + timedelta(seconds=1, microseconds=1))
    assert lock.seconds_left(T0) == 2
    assert lock.cleared() == Lockout()
