"""Hypothesis strategies for the vending domain."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from stsvend.vending import (
    AccountState,
    Block,
    EmergencyCreditPolicy,
    MonthToDate,
    Tariff,
    UnitPrice,
)

CURRENCY = "ZAR"

prices = st.integers(1, 5_000_000).map(UnitPrice)  # up to R 500 per unit


@st.composite
def tariffs(draw: Any) -> Tariff:
    bounds = sorted(set(draw(st.lists(st.integers(1, 20_000), max_size=4))))
    blocks = [Block(up, draw(prices)) for up in bounds] + [Block(None, draw(prices))]
    free = draw(st.sampled_from([0, 0, 100, 500, 16384, 16394]))
    return Tariff(
        name="generated",
        currency=CURRENCY,
        blocks=tuple(blocks),
        tax_bp=draw(st.sampled_from([0, 1500, 1600, 1250])),
        fixed_charge=draw(st.sampled_from([0, 0, 1, 2000, 15_000])),
        free_units=free,
    )


months = st.builds(
    MonthToDate,
    units=st.integers(0, 40_000),
    fixed_charge_paid=st.booleans(),
    free_units_issued=st.booleans(),
)

accounts = st.builds(
    AccountState,
    currency=st.just(CURRENCY),
    credit_balance=st.integers(0, 5_000),
    debt=st.integers(0, 1_000_000),
    debt_recovery_bp=st.integers(0, 10_000),
    emergency_debt=st.integers(0, 100_000),
)

policies = st.builds(
    EmergencyCreditPolicy,
    units=st.just(0),
    repayment_bp=st.integers(1, 10_000),
)

amounts = st.integers(1, 5_000_000)  # up to R 50 000

__all__ = ["accounts", "amounts", "months", "policies", "tariffs"]
