"""A replaced meter's remaining credit, issued as a credit token to its new meter.

The new meter arrives on its default key, so its first token must be the commissioning key
change; a credit token made under the unique key before the meter took that change would be
refused by the meter.  So the transfer waits: :func:`deliver_credit` refuses while the new
meter's key change is open (pending or issued), and the worker issues every waiting transfer
once the key change is confirmed (:func:`deliver_due_credits`).

The token is issued like every token: through the vending services' issue path, in the hash-
chained token log, recorded as a ``credit_transfer`` sale (no money: the credit was paid for on
the old meter) on the new meter's account, with a fixed request id per order (asking again
answers with the same receipt, never a second token).
"""

from __future__ import annotations

from stsvend import sts
from stsvend.errors import StsError
from stsvend.services.auth import authorize, require_shift
from stsvend.services.common import issue_once, meter_or_replay, normalise_drn, request_content
from stsvend.services.context import Actor, Services
from stsvend.services.documents import UNIT_NAMES, meter_doc, receipt_tokens
from stsvend.services.issue import issue_for_meter
from stsvend.services.receipt_model import SaleReceipt
from stsvend.services.recording import receipt_header, record_sale
from stsvend.services.workorders.model import WorkOrderError
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.repos import accounts as acc
from stsvend.store.repos import workorders as repo
from stsvend.vending.meters import MeterStatus, check_meter_can_receive
from stsvend.vending.requests import request_digest
from stsvend.vending.roles import Action
from stsvend.vending.tokenspec import TokenPurpose, credit_spec

__all__ = ["KeyChangePending", "deliver_credit", "deliver_due_credits"]


class KeyChangePending(StsError):
    """The new meter has not confirmed its commissioning key change yet."""

    code = "key_change"
    default_message = "the new meter's key change is still open"


def deliver_credit(svc: Services, actor: Actor, order_id: str) -> SaleReceipt:
    """Issue the credit transfer of replacement ``order_id`` to its new meter."""
    authorize(svc, actor, Action.WORKORDERS_CREDIT)
    require_shift(actor)
    with svc.store.transaction() as conn:
        order = repo.get_order(conn, order_id)
        transfer = None if order is None else repo.get_transfer(conn, order.id)
    if order is None or transfer is None:
        raise RecordNotFoundError(f"no credit transfer for work order {order_id}")
    request_id = f"wo-credit-{order.order_id}"
    meter = normalise_drn(transfer.new_meter)
    digest = request_digest("credit_transfer", request_content(
        actor, meter=meter, units=transfer.units, order=order.order_id))  # fmt: skip
    if transfer.state == "issued":
        raise WorkOrderError(f"the credit of order {order_id} was issued already "
                             f"(receipt {transfer.sale_id})")  # fmt: skip

    def work() -> SaleReceipt:
        now = svc.now()
        with svc.store.transaction() as conn:
            ctx, stored = meter_or_replay(conn, actor, meter, request_id, "credit_transfer",
                                          digest)  # fmt: skip
            if stored is not None:
                return stored
            row = repo.get_transfer(conn, transfer.work_order_id, lock=True)
            if row is None or row.state != "waiting":
                raise WorkOrderError(f"the credit of order {order_id} was issued already")
            if ctx.key_change is not None:
                raise KeyChangePending(
                    f"meter {meter}'s commissioning key change is {ctx.key_change.state}: the "
                    "credit is issued once the meter has taken it (stsvend key-change confirm)"
                )
            check_meter_can_receive(MeterStatus(ctx.meter.status), ctx.token_key_data,
                                    TokenPurpose.CREDIT_TRANSFER)  # fmt: skip
            account = acc.open_account_of_meter(conn, ctx.meter.id)
            resource = sts.Resource(ctx.meter.resource)
            credit = issue_for_meter(
                svc, conn, ctx.meter, ctx.token_key_data,
                [("Credit transfer", lambda tid, rnd: credit_spec(
                    resource, row.units, tid=tid, rnd=rnd,
                    purpose=TokenPurpose.CREDIT_TRANSFER))],
                now,
            )  # fmt: skip
            text = f"credit of meter {row.old_meter}, work order {order.order_id}"
            result = SaleReceipt(
                **receipt_header(svc, actor, "credit_transfer", request_id, now),
                meter=meter_doc(ctx), unit=UNIT_NAMES[resource],
                contract=None if account is None else account.contract_number,
                customer=None if account is None else account.customer_number,
                units=row.units, reason=text, tokens=receipt_tokens(credit),
                notes=(f"The remaining credit of replaced meter {row.old_meter}.",),
            )  # fmt: skip
            answer = record_sale(
                svc, conn, actor, kind="credit_transfer", request_id=request_id, digest=digest,
                now=now, result=result, meter_id=ctx.meter.id, meter_drn=ctx.meter.drn,
                logged=credit, account_id=None if account is None else account.id,
                units=row.units, ledger=[("credit_transfer", 0, row.units)], reason=text,
                note=text,
            )  # fmt: skip
            repo.set_transfer(conn, row.id, state="issued", sale_id=answer.receipt,
                              issued_at=now)  # fmt: skip
            repo.add_run(conn, at=now, step="credit", outcome="ok", order_id=order.order_id,
                         detail=f"{row.units} tenths issued to {meter}")  # fmt: skip
            return answer

    return issue_once(svc, actor, request_id, "credit_transfer", meter, digest, work)


def deliver_due_credits(svc: Services, actor: Actor, *, limit: int = 100) -> int:
    """Issue every waiting credit transfer whose new meter's key change is confirmed; the
    number issued.  A transfer still waiting for its key change is left for a later round."""
    from stsvend.services.common import load_meter

    authorize(svc, actor, Action.WORKORDERS_CREDIT)
    with svc.store.transaction() as conn:
        waiting = repo.waiting_transfers(conn, limit)
    issued = 0
    for order_id, transfer in waiting:
        with svc.store.transaction() as conn:
            if load_meter(conn, transfer.new_meter).key_change is not None:
                continue
        deliver_credit(svc, actor, order_id)
        issued += 1
    return issued
