"""TID allocation, key-expiry health and the key change policy and states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend import sts
from stsvend.errors import KeyExpiredError, TidError
from stsvend.vending import (
    KEY_CHANGE_TRANSITIONS,
    KeyChangeError,
    KeyChangeEvent,
    KeyChangeReason,
    KeyChangeState,
    KeyStatus,
    allocate_tids,
    credit_key_data,
    key_change_reasons,
    key_health,
    next_state,
    plan_key_change,
    plan_rollover,
    tokens_go_with_sale,
)

B93, B14 = sts.BaseDate.Y1993, sts.BaseDate.Y2014
NOW = datetime(2025, 3, 1, 10, 30, 45, tzinfo=UTC)


def data(**changes: object) -> sts.KeyData:
    base: dict[str, object] = {"sgc": 123456, "ti": 1, "krn": 1, "key_type": 2, "base_date": 1993}
    base.update(changes)
    return sts.KeyData(**base)


# -- TIDs --------------------------------------------------------------------------------------


def test_tid_is_the_utc_minute() -> None:
    (tid,) = allocate_tids(NOW, B14, None)
    assert tid == (datetime(2025, 3, 1, 10, 30, tzinfo=UTC) - B14.start) // timedelta(minutes=1)
    assert sts.datetime_of_tid(tid, B14) == NOW.replace(second=0)


def test_local_time_zones_give_the_same_tid() -> None:
    from zoneinfo import ZoneInfo

    local = NOW.astimezone(ZoneInfo("Africa/Nairobi"))
    assert allocate_tids(local, B14, None) == allocate_tids(NOW, B14, None)


def test_several_tokens_in_one_minute_take_consecutive_minutes() -> None:
    tids = allocate_tids(NOW, B14, None, count=3)
    assert tids == (tids[0], tids[0] + 1, tids[0] + 2)
    again = allocate_tids(NOW, B14, tids[-1], count=2)
    assert again == (tids[-1] + 1, tids[-1] + 2)


def test_the_reserved_minute_is_skipped_even_in_a_run() -> None:
    midnight = datetime(2025, 3, 2, 0, 0, 10, tzinfo=UTC)
    tids = allocate_tids(midnight, B14, None, count=3)
    assert not any(sts.is_reserved_tid(t) for t in tids)
    assert tids[1] - tids[0] == 2  # 00:00, then 00:02


def test_a_clock_behind_the_last_tid_still_moves_forward() -> None:
    (tid,) = allocate_tids(NOW, B14, None)
    assert allocate_tids(NOW - timedelta(days=2), B14, tid + 100) == (tid + 101,)


@given(st.datetimes(min_value=datetime(2014, 1, 2), max_value=datetime(2045, 1, 1),
                    timezones=st.just(UTC)),
       st.one_of(st.none(), st.integers(0, 16_000_000)), st.integers(1, 5))  # fmt: skip
def test_allocated_tids_rise_and_avoid_the_reserved_minute(
    now: datetime, last: int | None, count: int
) -> None:
    try:
        tids = allocate_tids(now, B14, last, count)
    except TidError:
        return
    previous = -1 if last is None else last
    for tid in tids:
        assert tid > previous and not sts.is_reserved_tid(tid)
        assert tid >= sts.tid_at(now, B14)
        previous = tid


def test_past_the_base_date_range_is_refused() -> None:
    with pytest.raises(TidError, match="rollover"):
        allocate_tids(NOW, B93, None)
    with pytest.raises(TidError, match="before the base date"):
        allocate_tids(NOW, sts.BaseDate.Y2035, None)
    with pytest.raises(TidError, match="no TID is left"):
        allocate_tids(datetime(2024, 11, 24, 20, 14, tzinfo=UTC), B93, None, count=3)


def test_past_the_key_expiry_number_is_refused() -> None:
    (tid,) = allocate_tids(NOW, B14, None)
    ken = (tid >> 16) - 1
    with pytest.raises(KeyExpiredError, match=f"past KEN {ken}"):
        allocate_tids(NOW, B14, None, ken=ken)
    assert allocate_tids(NOW, B14, None, ken=tid >> 16) == (tid,)


def test_count_must_be_positive() -> None:
    with pytest.raises(ValueError):
        allocate_tids(NOW, B14, None, count=0)


# -- key health --------------------------------------------------------------------------------


def test_a_1993_meter_in_2025_is_not_rolled_over() -> None:
    health = key_health(NOW, data())
    assert health.statuses == {KeyStatus.NOT_ROLLED_OVER} and health.needs_rollover
    assert health.base_date_ends_at == datetime(2024, 11, 24, 20, 16, tzinfo=UTC)


def test_rollover_due_within_the_warning_period() -> None:
    before = datetime(2024, 10, 1, tzinfo=UTC)
    assert key_health(before, data()).statuses == {KeyStatus.ROLLOVER_DUE}
    assert key_health(before, data(), warn_within=timedelta(days=7)).ok


def test_ken_expiry_and_its_warning() -> None:
    (tid,) = allocate_tids(NOW, B14, None)
    high = tid >> 16
    expired = key_health(NOW, data(base_date=2014, ken=high - 1))
    assert expired.statuses == {KeyStatus.KEY_EXPIRED} and expired.near_key_expiry
    assert expired.key_expires_at is not None and expired.key_expires_at <= NOW
    near = key_health(NOW, data(base_date=2014, ken=high), warn_within=timedelta(days=60))
    assert near.statuses == {KeyStatus.NEAR_KEY_EXPIRY}
    fine = key_health(NOW, data(base_date=2014, ken=255))
    assert fine.ok and fine.key_expires_at is None and not fine.near_key_expiry


def test_a_future_base_date_is_reported() -> None:
    health = key_health(NOW, data(base_date=2035))
    assert health.statuses == {KeyStatus.BASE_DATE_NOT_STARTED}


def test_key_health_needs_an_aware_instant() -> None:
    with pytest.raises(TidError, match="timezone-aware"):
        key_health(datetime(2025, 1, 1), data())


# -- key change --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "reasons"),
    [(data(sgc=654321), {"sgc"}), (data(krn=2), {"krn"}), (data(ti=7), {"ti"}),
     (data(key_type=3), {"key_type"}), (data(ken=80), {"ken"}),
     (data(base_date=2014), {"base_date"}), (data(krn=2, ti=3, ken=1), {"krn", "ti", "ken"})],
)  # fmt: skip
def test_each_reason_for_a_key_change(target: sts.KeyData, reasons: set[str]) -> None:
    assert {r.value for r in key_change_reasons(data(), target)} == reasons
    plan = plan_key_change(data(), target)
    assert plan.rollover is (target.base_date is not B93)


def test_commissioning_plan() -> None:
    plan = plan_key_change(data(key_type=1), data())
    assert plan.commissioning and plan.reasons == {KeyChangeReason.KEY_TYPE}
    assert plan.token_count == 2 and not plan.rollover


def test_the_sgc_token_only_when_asked_for_and_the_sgc_changes() -> None:
    assert plan_key_change(data(), data(sgc=654321), sgc_token=True).token_count == 3
    assert plan_key_change(data(), data(sgc=654321)).token_count == 2
    assert not plan_key_change(data(), data(krn=2), sgc_token=True).with_sgc
    ea11 = plan_key_change(data(ea="11"), data(ea="11", sgc=654321), sgc_token=True)
    assert ea11.token_count == 4 and not ea11.with_sgc


def test_rollover_plan_1993_to_2014() -> None:
    plan = plan_rollover(data(sgc=123457), krn=4)
    assert plan.rollover and plan.target.base_date is B14 and plan.target.krn == 4
    assert plan.reasons == {KeyChangeReason.BASE_DATE, KeyChangeReason.KRN}
    assert plan_rollover(data(), ken=200, sgc=654321).target.sgc == 654321
    with pytest.raises(KeyChangeError, match="last one"):
        plan_rollover(data(base_date=2035))


@pytest.mark.parametrize(
    ("current", "target", "message"),
    [(data(), data(), "no key change is needed"),
     (data(), data(ea="11"), "EA07 to EA11"),
     (data(), data(key_type=1), "not key type 1"),
     (data(key_type=1), data(key_type=0), "not key type 0"),
     (data(base_date=2014), data(base_date=1993), "never moves back"),
     (data(), data(base_date=2035), "one base date at a time")],
)  # fmt: skip
def test_key_change_refusals(current: sts.KeyData, target: sts.KeyData, message: str) -> None:
    with pytest.raises(KeyChangeError, match=message):
        plan_key_change(current, target)


def test_a_target_ken_already_past_is_refused() -> None:
    (tid,) = allocate_tids(NOW, B14, None)
    with pytest.raises(KeyChangeError, match="already passed"):
        plan_rollover(data(), ken=(tid >> 16) - 1, now=NOW)
    assert plan_rollover(data(), ken=tid >> 16, now=NOW).target.ken == tid >> 16


def test_the_state_table_is_complete_and_closed() -> None:
    states, events = list(KeyChangeState), list(KeyChangeEvent)
    for state in states:
        for event in events:
            if (state, event) in KEY_CHANGE_TRANSITIONS:
                assert next_state(state, event) is KEY_CHANGE_TRANSITIONS[(state, event)]
            else:
                with pytest.raises(KeyChangeError, match=f"that is {state.value} cannot be"):
                    next_state(state, event)
    # Confirmed and cancelled are final.
    assert not [k for k in KEY_CHANGE_TRANSITIONS
                if k[0] in (KeyChangeState.CONFIRMED, KeyChangeState.CANCELLED)]  # fmt: skip


def test_pending_tokens_go_with_every_sale_until_confirmed() -> None:
    state = KeyChangeState.PENDING
    sales = 0
    while tokens_go_with_sale(state):
        state = next_state(state, KeyChangeEvent.ISSUE)
        sales += 1
        if sales == 3:
            state = next_state(state, KeyChangeEvent.CONFIRM)
    assert state is KeyChangeState.CONFIRMED and sales == 3
    assert not tokens_go_with_sale(None) and not tokens_go_with_sale(KeyChangeState.CANCELLED)


def test_credit_goes_under_the_target_while_a_change_is_open() -> None:
    target = data(krn=2, base_date=2014)
    assert credit_key_data(data(), target, KeyChangeState.PENDING) == target
    assert credit_key_data(data(), target, KeyChangeState.ISSUED) == target
    assert credit_key_data(data(), target, KeyChangeState.CONFIRMED) == data()
    assert credit_key_data(data(), None, None) == data()
    with pytest.raises(KeyChangeError, match="no target"):
        credit_key_data(data(), None, KeyChangeState.PENDING)
