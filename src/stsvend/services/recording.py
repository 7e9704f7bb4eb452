"""Recording a sale: the one path every receipt-bearing operation ends in.

Credit vends, emergency credit, free issue, engineering and test tokens, single-meter key
changes and reversals all finish the same way:

* :func:`receipt_header` — the lines every receipt starts with (kind, request id, times,
  operator and terminal, TEST marking, the utility and its tax number);
* :func:`key_change_first` — a meter with an open key change gets its key change tokens first
  on the receipt, and the change is marked issued;
* :func:`record_sale` — the sale row, its ledger lines, one token log row per new token, any
  further log rows (a reversal's marks) and the row that digests the sale and its ledger into
  the meter's chain, all staged on the transaction (:mod:`stsvend.store.writes`) so that they
  reach the database together with the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypedDict

import attrs
from sqlalchemy.engine import Connection

from stsvend.services.common import (
    MeterContext,
    calendar,
    key_change_issued,
    local_times,
)
from stsvend.services.context import Actor, Services
from stsvend.services.issue import Issued, sale_entry, token_entries
from stsvend.services.receipt_codec import stored_form
from stsvend.services.receipt_model import SaleReceipt
from stsvend.store.repos import operators as ops
from stsvend.store.repos.keychanges import set_state
from stsvend.store.repos.sales import insert_sale, ledger_rows, sale_row, stage_ledger, stage_sale
from stsvend.tokenlog.chain import LogEntry
from stsvend.tokenlog.writer import append
from stsvend.vending.key_change import KeyChangeEvent, next_state
from stsvend.vending.notices import KEY_CHANGE_NOTICE

__all__ = ["Header", "key_change_first", "receipt_header", "record_sale"]


class Header(TypedDict):
    """The header fields of a :class:`SaleReceipt` (its keyword arguments)."""

    kind: str
    request_id: str
    at: str
    local_time: str
    operator: str
    terminal: str
    test: bool
    utility: str
    tax_number: str


def receipt_header(
    svc: Services,
    actor: Actor,
    kind: str,
    request_id: str,
    now: datetime,
    *,
    test: bool | None = None,
) -> Header:
    """What every receipt starts with (``test``: the TEST marking, when it is not the
    security module's own — a reversal keeps its original sale's)."""
    at, local_time = local_times(svc, now)
    return Header(
        kind=kind,
        request_id=request_id,
        at=at,
        local_time=local_time,
        operator=actor.username,
        terminal=actor.terminal,
        test=svc.hsm.test if test is None else test,
        utility=svc.config.utility_name,
        tax_number=svc.config.tax_number,
    )


def key_change_first(
    conn: Connection, ctx: MeterContext, now: datetime
) -> tuple[list[Issued], list[str]]:
    """The open key change's tokens (to go first on the receipt) and the receipt's note; the
    change is marked issued.  No open change: nothing."""
    change = ctx.key_change
    if change is None:
        return [], []
    current = ctx.key_change_state
    assert current is not None
    set_state(conn, change.id, next_state(current, KeyChangeEvent.ISSUE).value, now)
    return key_change_issued(change, ctx.meter), [KEY_CHANGE_NOTICE]


def record_sale(
    svc: Services,
    conn: Connection,
    actor: Actor,
    *,
    kind: str,
    request_id: str,
    digest: str,
    now: datetime,
    result: SaleReceipt,
    meter_id: int | None,
    meter_drn: str | None,
    logged: Sequence[Issued] = (),
    marks: Callable[[int], Sequence[LogEntry]] | None = None,
    account_id: int | None = None,
    amount: int = 0,
    units: int = 0,
    tax: int = 0,
    ledger: Sequence[tuple[str, int, int]] = (),
    reason: str | None = None,
    note: str | None = None,
    reversal_of: int | None = None,
    test: bool | None = None,
    heads: dict[str, tuple[int, bytes]] | None = None,
    sale_id: int | None = None,
) -> SaleReceipt:
    """Record the sale whose receipt is ``result``; returns the answer (with its receipt
    number), which is also what a repeated request id replays (stored in the form
    :func:`~stsvend.services.receipt_codec.stored_form` gives).

    ``logged``: the tokens of the receipt made now, one token log row each (``note`` on each);
    ``marks``: further log rows of this sale, given its id (a reversal's).  ``ledger``:
    (entry, amount, units) lines that sum to zero.  ``sale_id``: an id already taken from the
    sequence (a vend's snapshot), so that the only answer needed here is the shift's state.
    """
    # The shift's row is share-locked to the commit: a close of it waits for this sale and
    # counts it, and a sale that finds it closed (by a close that came first) is refused.
    if (actor.shift_id is not None
            and ops.get_shift(conn, actor.shift_id, lock="share").closed_at is not None):
        from stsvend.services.auth import ShiftClosedDuringSale

        raise ShiftClosedDuringSale(
            f"shift {actor.shift_id} was closed while this sale was being made: nothing was sold"
        )
    values = {
        "request_id": request_id,
        "scope": actor.request_scope,
        "vendor_id": actor.vendor_id,
        "request_digest": digest,
        "kind": kind,
        "meter_id": meter_id,
        "account_id": account_id,
        "operator_id": actor.operator_id,
        "shift_id": actor.shift_id,
        "terminal": actor.terminal,
        "created_at": now,
        "local_day": calendar(svc).local(now).date(),
        "amount": amount,
        "units": units,
        "tax": tax,
        "reversal_of": reversal_of,
        "reason": reason,
        "test": svc.hsm.test if test is None else test,
        "result": stored_form(result),
    }
    if sale_id is None:
        sale_id = insert_sale(conn, values)
    else:
        stage_sale(conn, {"id": sale_id, **values})
    lines = ledger_rows(sale_id, account_id, ledger)
    stage_ledger(conn, lines)
    entries = token_entries(
        svc, actor, meter_drn, logged, request_id=request_id, sale_id=sale_id, now=now, note=note
    )
    if marks is not None:
        entries += marks(sale_id)
    entries.append(sale_entry(actor, meter_drn, sale_row(values, sale_id), lines, now=now))
    append(conn, svc.log_key, entries, heads=heads)
    if result.receipt == sale_id and result.replayed is False:
        return result  # numbered already (a vend takes its id beforehand): nothing to copy
    return attrs.evolve(result, receipt=sale_id, replayed=False)
