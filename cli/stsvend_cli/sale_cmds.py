"""The counter: ``vend``, ``trial``, ``reprint``, ``reverse``, ``emergency``, ``free-issue``,
``engineering`` and ``test-token``.

Every command that issues something takes ``--request-id``: a repeat with the same id returns
the receipt first issued and never issues again (what a client does after a timeout).
"""

from __future__ import annotations

from typing import Any

import click

from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    money,
    table,
    units,
    whole,
    with_session,
)
from stsvend_cli.receipt import print_receipt

__all__ = [
    "emergency",
    "engineering",
    "free_issue",
    "reprint",
    "reverse",
    "test_token",
    "trial",
    "vend",
]

_request_id = click.option(
    "--request-id",
    default=None,
    metavar="ID",
    help="Client request id: a repeat returns the first receipt and issues nothing.",
)


def _required(value: int | None) -> int:
    assert value is not None  # the argument has a default or is required by click
    return value


def _tenths(text: str) -> int:
    from stsvend.errors import InputError
    from stsvend.plaintext import parse_fixed

    value = parse_fixed(text, 1, "units", max_whole_digits=9)
    if value <= 0:
        raise InputError(f"units are positive, in steps of 0.1: {text!r}")
    return value


@click.command()
@click.argument("drn")
@click.argument("amount")
@_request_id
@json_option
@with_session(action="vend")
def vend(sess: Session, drn: str, amount: str, request_id: str | None, as_json: bool) -> None:
    """Sell credit for AMOUNT (such as 100.00) to meter DRN and print the receipt."""
    from stsvend.services.vend import vend as do_vend

    result = do_vend(sess.svc, sess.actor, drn, amount, request_id=request_id)
    emit(result, as_json, print_receipt)


@click.command()
@click.argument("drn")
@click.argument("amount", required=False)
@click.option("--units", "unit_text", default=None, help="How much for this many units?")
@json_option
@with_session(action="trial")
def trial(
    sess: Session, drn: str, amount: str | None, unit_text: str | None, as_json: bool
) -> None:
    """The figures of a sale without issuing anything (for an AMOUNT, or --units)."""
    from stsvend.services.vend import trial as do_trial

    result = do_trial(
        sess.svc, sess.actor, drn, amount=amount,
        units=None if unit_text is None else _tenths(unit_text),
    )  # fmt: skip

    def show(r: dict[str, Any]) -> None:
        doc = r["money"]
        cur = doc["currency"]
        rows = [["amount", money(doc["tendered"], cur)]]
        rows += [
            [line["kind"] + (f" block {line['block']}" if line["block"] else ""),
             money(-line["amount"], cur)]
            for line in doc["lines"]
        ]  # fmt: skip
        rows += [["VAT included", money(doc["tax"], cur)],
                 ["carried forward", money(doc["carried_forward"], cur)],
                 ["units", units(r["units"], r["unit"])]]  # fmt: skip
        title = f"Trial for {r['meter']['drn']} ({r['tariff']})" + (" TEST" if r["test"] else "")
        console().print(table(title, ["line", "value"], rows))
        console().print("trial only: no token was issued")

    emit(result, as_json, show)


@click.command()
@click.argument("receipt")
@json_option
@with_session(keys=False, action="reprint")
def reprint(sess: Session, receipt: str, as_json: bool) -> None:
    """Print a receipt again, exactly as issued, marked COPY."""
    from stsvend.services.receipts import reprint as do_reprint

    emit(do_reprint(sess.svc, sess.actor, receipt), as_json, print_receipt)


@click.command()
@click.argument("receipt")
@click.option("--reason", required=True, help="Why (at least 5 characters).")
@_request_id
@json_option
@with_session(action="reverse")
def reverse(
    sess: Session, receipt: str, reason: str, request_id: str | None, as_json: bool
) -> None:
    """Reverse a sale (supervisor): refund it; its token stays in the log, marked."""
    from stsvend.services.receipts import reverse as do_reverse

    result = do_reverse(sess.svc, sess.actor, receipt, reason, request_id=request_id)
    emit(result, as_json, print_receipt)


@click.command()
@click.argument("drn")
@_request_id
@json_option
@with_session(action="emergency-credit")
def emergency(sess: Session, drn: str, request_id: str | None, as_json: bool) -> None:
    """Grant emergency credit: a token now, a debt repaid by later purchases."""
    from stsvend.services.vend import emergency_credit

    emit(emergency_credit(sess.svc, sess.actor, drn, request_id=request_id), as_json,
         print_receipt)  # fmt: skip


@click.command("free-issue")
@click.argument("drn")
@click.argument("unit_text", metavar="UNITS")
@click.option("--reason", required=True)
@_request_id
@json_option
@with_session(action="free-issue")
def free_issue(
    sess: Session, drn: str, unit_text: str, reason: str, request_id: str | None, as_json: bool
) -> None:
    """Give UNITS without payment (supervisor, with a reason)."""
    from stsvend.services.vend import free_issue as do_free

    result = do_free(sess.svc, sess.actor, drn, _tenths(unit_text), reason, request_id=request_id)
    emit(result, as_json, print_receipt)


@click.command()
@click.argument("drn")
# The layout table's setting tokens (EngineeringKind; a test holds the two equal), spelled out
# so that the CLI starts without loading the core.
@click.argument(
    "kind",
    type=click.Choice(
        ["max-power-limit", "clear-credit", "tariff-rate", "clear-tamper",
         "phase-unbalance-limit", "water-meter-factor"]
    ),
)  # fmt: skip
@click.option("--work-order", required=True, help="The work order it belongs to.")
@click.option("--value", default=None, help="Watts, register, or the raw value.")
@_request_id
@json_option
@with_session(action="engineering")
def engineering(
    sess: Session, drn: str, kind: str, work_order: str, value: str | None,
    request_id: str | None, as_json: bool,
) -> None:  # fmt: skip
    """An engineering (class 2) token for one meter (engineer, with a work order)."""
    from stsvend.services.engineering import engineering_token

    result = engineering_token(sess.svc, sess.actor, drn, kind, work_order=work_order,
                               value=whole(value, "--value", 0, 2**32 - 1),
                               request_id=request_id)  # fmt: skip
    emit(result, as_json, print_receipt)


@click.command("test-token")
@click.argument("control")
@click.option(
    "--manufacturer",
    default="0",
    show_default=True,
    help="Manufacturer code (0 reaches every meter).",
)
@click.option("--four-digit", is_flag=True, help="4-digit manufacturer code form.")
@click.option("--extended", is_flag=True, help="Extended read form.")
@click.option("--meter", "drn", default=None, help="Log it against this meter.")
@_request_id
@json_option
@with_session(action="test-token")
def test_token(
    sess: Session, control: str, manufacturer: str, four_digit: bool, extended: bool,
    drn: str | None, request_id: str | None, as_json: bool,
) -> None:  # fmt: skip
    """A class 1 test/display token (no key), logged."""
    from stsvend.services.engineering import issue_test_token

    result = issue_test_token(
        sess.svc, sess.actor, _required(whole(control, "CONTROL", 0, 2**40)),
        manufacturer_code=_required(whole(manufacturer, "--manufacturer", 0, 9999)),
        four_digit=four_digit,
        extended=extended, drn=drn, request_id=request_id,
    )  # fmt: skip
    emit(result, as_json, print_receipt)
