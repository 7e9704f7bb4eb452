"""The billing export's figures against the ledger and the token log, for any run of sales.

A property: random purchases (an inclining-block tariff with a fixed charge, debt recovery),
emergency credit, free issues and reversals over a few days; the export of the period
reconciles, and its totals equal the ledger's and the token log's own sums, made here apart.
Then the periods: a day's export plus the other days' equals the whole.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsvend.errors import StsError
from stsvend.services import receipts, tariffs, vend
from stsvend.services.billing import AccountFigures, billing_export
from tests.services.helpers import Installation, drn, installation

METERS = [drn(n) for n in range(1, 4)]

step = st.one_of(
    st.tuples(st.just("vend"), st.integers(0, 2), st.integers(500, 40_000)),
    st.tuples(st.just("emergency"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("free"), st.integers(0, 2), st.integers(1, 50)),
    st.tuples(st.just("reverse"), st.integers(0, 2), st.just(0)),
    st.tuples(st.just("later"), st.just(0), st.integers(1, 30)),
)


def _setup(inst: Installation) -> None:
    tariffs.add_tariff(inst.svc, inst.admin, "STEP", name="Step",
                       blocks=[(500, "1.00"), (None, "2.50")], tax_percent="15",
                       fixed_charge="12.50", emergency_units=50)  # fmt: skip
    for n, meter in enumerate(METERS):
        inst.meter(meter, tariff="STEP", debt=str(40 * n), debt_recovery_percent=str(10 * n))


def _run(inst: Installation, steps: list[tuple[str, int, int]]) -> None:
    last: dict[int, int] = {}
    for kind, which, value in steps:
        meter = METERS[which]
        try:
            if kind == "vend":
                last[which] = vend.vend(inst.svc, inst.clerk, meter,
                                        f"{value // 100}.{value % 100:02d}").number  # fmt: skip
            elif kind == "emergency":
                last[which] = vend.emergency_credit(inst.svc, inst.clerk, meter).number
            elif kind == "free":
                last[which] = vend.free_issue(inst.svc, inst.supervisor, meter, value,
                                              "meter replaced, credit lost").number  # fmt: skip
            elif kind == "reverse" and which in last:
                receipts.reverse(inst.svc, inst.supervisor, last.pop(which), "customer left")
        except StsError:
            pass  # a refusal (too small, limits, reversal rules): nothing was recorded
        if kind == "later":
            inst.clock.advance(hours=value)
        inst.clock.advance(minutes=1)


def _sql(inst: Installation, statement: str) -> int:
    with inst.svc.store.transaction() as conn:
        return int(conn.exec_driver_sql(statement).scalar_one() or 0)


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=14))
def test_the_totals_are_the_ledgers_and_the_token_logs(steps: list[Any]) -> None:
    with installation() as inst:
        _setup(inst)
        zone = inst.svc.config.zone
        first = inst.clock.now.astimezone(zone).date()
        _run(inst, steps)
        last = inst.clock.now.astimezone(zone).date()
        export = billing_export(inst.svc, inst.admin, first.isoformat(), last.isoformat())
        assert export.reconciled, [c for c in export.checks if not c.ok]
        t = export.totals
        payments = _sql(inst, "SELECT sum(amount) FROM ledger_entry WHERE entry = 'payment'")
        assert t.purchase_amount - t.reversed_amount == payments
        assert t.units == _sql(inst, "SELECT sum(units) FROM ledger_entry")
        assert t.units == _sql(inst, "SELECT sum(units) FROM sale WHERE account_id IS NOT NULL")
        tokens = _sql(inst, "SELECT sum(CASE WHEN event = 'reversal' THEN -amount ELSE amount END)"
                            " FROM token_log WHERE token_class = 0")  # fmt: skip
        assert t.units == tokens
        assert t.tax == _sql(inst, "SELECT sum(tax) FROM sale")
        assert t.energy_charge == sum(b.amount for b in t.energy_by_block)
        assert t.purchases == _sql(inst, "SELECT count(*) FROM sale WHERE kind = 'credit'")
        assert t.reversals == _sql(inst, "SELECT count(*) FROM sale WHERE kind = 'reversal'")
        # The money: every cent in went somewhere.
        assert (t.purchase_amount - t.reversed_amount + t.credit_brought_forward
                == t.energy_charge + t.fixed_charges + t.emergency_repaid + t.debt_recovered
                + t.credit_carried_forward)  # fmt: skip
        # Day by day, the periods add up to the whole.
        total = AccountFigures()
        day = first
        while day <= last:
            part = billing_export(inst.svc, inst.admin, day.isoformat(), day.isoformat())
            assert part.reconciled
            total = total.plus(part.totals)
            day += timedelta(days=1)
        assert total == t
