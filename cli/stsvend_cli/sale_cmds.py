"""The counter: ``vend``, ``trial``, ``reprint``, ``reverse``, ``emergency``, ``free-issue``,
``engineering`` and ``test-token``.

Every command that issues something takes ``--request-id``: a repeat with the same id returns
the receipt first issued and never issues again (what a client does after a timeout).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    operator_options,
    table,
    units,
    whole,
    with_session,
)
from stsvend_cli.meter_link import deliver_options
from stsvend_cli.receipt_out import Delivery, ReceiptNotPrinted, deliver, receipt_options

if TYPE_CHECKING:
    from stsvend.services.receipt_model import SaleReceipt, TrialResult

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


_server = click.option(
    "--server", default=None, metavar="URL",
    help="Through this sale-point server (https://…), at the terminal whose key "
         "STSVEND_TERMINAL_KEY or terminal_key_file holds, as the operator named (logged in "
         "there with their PIN); no local store or keys.",
)  # fmt: skip


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
@_server
@receipt_options
@deliver_options
@json_option
@operator_options
def vend(
    drn: str, amount: str, request_id: str | None, server: str | None, printer: str | None,
    pdf: str | None, deliver_port: str | None, deliver_timeout: str, as_json: bool,
    operator: str | None, pin_env: str,
) -> None:  # fmt: skip
    """Sell credit for AMOUNT (such as 100.00) to meter DRN and print the receipt.

    If the printer fails after the sale, the sale stands: reprint it (exit 10), never sell
    again.  With --server the sale is made by the server (docs/client.md), by the operator
    named, logged in there with their PIN for the sale (none named: by the terminal); if it
    does not answer, run the command again with the --request-id it names, never a new one.
    With --deliver PORT the tokens also go straight into the meter on PORT; if they do not
    get there the sale still stands (exit 10).
    """
    if server is not None:
        if deliver_port is not None:
            from stsvend.errors import InputError

            raise InputError("--deliver works with a sale made here, not with --server")
        from stsvend_cli.remote_sale import remote_vend

        remote_vend(server, drn, amount, request_id, printer, pdf, as_json, operator, pin_env)
        return
    # with_session's wrapper takes the operator options and passes the session first.
    here: Callable[..., None] = _vend_here
    here(drn, amount, request_id, printer, pdf, deliver_port, deliver_timeout, as_json,
         operator=operator, pin_env=pin_env)  # fmt: skip


@with_session(action="vend")
def _vend_here(
    sess: Session, drn: str, amount: str, request_id: str | None, printer: str | None,
    pdf: str | None, deliver_port: str | None, deliver_timeout: str, as_json: bool,
) -> None:  # fmt: skip
    from stsvend.services.vend import vend as do_vend
    from stsvend_cli.meter_link import prepare

    out = Delivery(printer, pdf)
    link = prepare(sess.svc, deliver_port, deliver_timeout)
    result = do_vend(sess.svc, sess.actor, drn, amount, request_id=request_id)
    _hand_over(out, result, as_json, link, deliver_port)


def _hand_over(out: Delivery, result: SaleReceipt, as_json: bool, link: Any,
               port: str | None, *, reprint: bool = False) -> None:  # fmt: skip
    """Show the receipt, enter its tokens on the meter if asked, then print it."""
    if link is None or port is None:
        deliver(out, result, as_json, reprint=reprint)
        return
    from stsvend.services.results import as_doc
    from stsvend_cli.meter_link import delivery_doc, send_to_meter, show
    from stsvend_cli.receipt import print_receipt

    delivery, failure = send_to_meter(link, port, result)
    if as_json:
        emit({**as_doc(result), "delivery": delivery_doc(delivery, failure)}, True, print)
    else:
        print_receipt(result)
        show(delivery)
    try:
        out.send(result, reprint=reprint)
    except ReceiptNotPrinted as exc:
        if failure is None:
            raise
        raise type(failure)(f"{failure}; and {exc}") from None
    if failure is not None:
        raise failure


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
    from stsvend.services.results import as_doc
    from stsvend.services.vend import trial as do_trial

    result = do_trial(
        sess.svc, sess.actor, drn, amount=amount,
        units=None if unit_text is None else _tenths(unit_text),
    )  # fmt: skip

    def show(r: TrialResult) -> None:
        from stsvend_cli.receipt import money_lines

        # The receipt's own money lines, so a trial reads exactly as the sale would.
        lines = [x for x in money_lines(r.money, r.unit, r.tariff) if x.style == "pair"]
        rows = [[x.text, x.right] for x in lines]
        rows.append(["Units", units(r.units, r.unit)])
        title = f"Trial for {r.meter.drn} ({r.tariff})" + (" TEST" if r.test else "")
        console().print(table(title, ["line", "value"], rows))
        console().print("trial only: no token was issued")

    emit(as_doc(result) if as_json else result, as_json, show)


@click.command()
@click.argument("receipt")
@_server
@receipt_options
@deliver_options
@json_option
@operator_options
def reprint(
    receipt: str, server: str | None, printer: str | None, pdf: str | None,
    deliver_port: str | None, deliver_timeout: str, as_json: bool, operator: str | None,
    pin_env: str,
) -> None:  # fmt: skip
    """Print a receipt again, exactly as issued, marked COPY (on the terminal, and on the
    printer or as a PDF if asked).  With --server, a receipt of this terminal's vendor from the
    sale-point server (RECEIPT a number, or `last`).  With --deliver PORT its tokens go into the
    meter on PORT again (a meter takes each token once)."""
    if server is not None:
        if deliver_port is not None:
            from stsvend.errors import InputError

            raise InputError("--deliver works with a receipt kept here, not with --server")
        from stsvend_cli.remote_sale import remote_reprint

        remote_reprint(server, receipt, printer, pdf, as_json)
        return
    here: Callable[..., None] = _reprint_here
    here(receipt, printer, pdf, deliver_port, deliver_timeout, as_json, operator=operator,
         pin_env=pin_env)  # fmt: skip


@with_session(keys=False, action="reprint")
def _reprint_here(
    sess: Session, receipt: str, printer: str | None, pdf: str | None,
    deliver_port: str | None, deliver_timeout: str, as_json: bool,
) -> None:  # fmt: skip
    from stsvend.services.receipts import reprint as do_reprint
    from stsvend_cli.meter_link import prepare

    out = Delivery(printer, pdf)
    link = prepare(sess.svc, deliver_port, deliver_timeout)
    result = do_reprint(sess.svc, sess.actor, receipt)
    _hand_over(out, result, as_json, link, deliver_port, reprint=True)


@click.command()
@click.argument("receipt")
@click.option("--reason", required=True, help="Why (at least 5 characters).")
@_request_id
@receipt_options
@json_option
@with_session(action="reverse")
def reverse(
    sess: Session, receipt: str, reason: str, request_id: str | None, printer: str | None,
    pdf: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Reverse a sale (supervisor): refund it; its token stays in the log, marked."""
    from stsvend.services.receipts import reverse as do_reverse

    out = Delivery(printer, pdf)
    result = do_reverse(sess.svc, sess.actor, receipt, reason, request_id=request_id)
    deliver(out, result, as_json)


@click.command()
@click.argument("drn")
@_request_id
@receipt_options
@json_option
@with_session(action="emergency-credit")
def emergency(
    sess: Session, drn: str, request_id: str | None, printer: str | None, pdf: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Grant emergency credit: a token now, a debt repaid by later purchases."""
    from stsvend.services.vend import emergency_credit

    out = Delivery(printer, pdf)
    deliver(out, emergency_credit(sess.svc, sess.actor, drn, request_id=request_id), as_json)


@click.command("free-issue")
@click.argument("drn")
@click.argument("unit_text", metavar="UNITS")
@click.option("--reason", required=True)
@_request_id
@receipt_options
@json_option
@with_session(action="free-issue")
def free_issue(
    sess: Session, drn: str, unit_text: str, reason: str, request_id: str | None,
    printer: str | None, pdf: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Give UNITS without payment (supervisor, with a reason)."""
    from stsvend.services.vend import free_issue as do_free

    tenths = _tenths(unit_text)
    out = Delivery(printer, pdf)
    result = do_free(sess.svc, sess.actor, drn, tenths, reason, request_id=request_id)
    deliver(out, result, as_json)


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
@click.option(
    "--value",
    default=None,
    help="max-power-limit, phase-unbalance-limit: watts. clear-credit: the register to clear "
    "(0 electricity, 1 water, 2 gas, 3 time, 4-7 their currency registers, 65535 every "
    "register; default 0). water-meter-factor: the factor (0-65535).",
)
@_request_id
@receipt_options
@json_option
@with_session(action="engineering")
def engineering(
    sess: Session, drn: str, kind: str, work_order: str, value: str | None,
    request_id: str | None, printer: str | None, pdf: str | None, as_json: bool,
) -> None:  # fmt: skip
    """An engineering (class 2) token for one meter (engineer, with a work order).

    \b
    KIND is what the token does at the meter:
      max-power-limit        set the maximum power in watts (--value W)
      clear-credit           set a credit register to zero: --value names it,
                             0 electricity (default), 1 water, 2 gas, 3 time,
                             4-7 the same in currency, 65535 all registers;
                             the customer loses that credit, record why
      clear-tamper           clear the tamper condition (no value)
      phase-unbalance-limit  set the phase power unbalance limit (--value W)
      water-meter-factor     set the water meter factor (water meters only)
      tariff-rate            refused: reserved by the standard
    """
    from stsvend.services.engineering import engineering_token

    number = whole(value, "--value", 0, 2**32 - 1)
    out = Delivery(printer, pdf)
    result = engineering_token(sess.svc, sess.actor, drn, kind, work_order=work_order,
                               value=number, request_id=request_id)  # fmt: skip
    deliver(out, result, as_json)


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
@receipt_options
@json_option
@with_session(action="test-token")
def test_token(
    sess: Session, control: str, manufacturer: str, four_digit: bool, extended: bool,
    drn: str | None, request_id: str | None, printer: str | None, pdf: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """A class 1 test/display token (no key, works on any meter of the manufacturer), logged.

    \b
    CONTROL is a number whose bits choose what the meter tests or shows;
    add the values of the functions wanted (1 + 8 = 9: test all, then show
    the total energy):
      1 test all                 256 display tamper status
      2 test load switch         512 display power consumption
      4 test display            1024 display software version
      8 display total energy    2048 display phase unbalance limit
     16 display key revision    4096 display water meter factor
     32 display tariff index    8192 display tariff rate
     64 test token reader      16384 display key type
    128 display max power limit 32768 display key expiry number
    (stsvend's bit order, docs/meter-conformance.md: the standard's table
    is not public; check the meter maker's manual)
    """
    from stsvend.services.engineering import issue_test_token

    number = _required(whole(control, "CONTROL", 0, 2**40))
    maker = _required(whole(manufacturer, "--manufacturer", 0, 9999))
    out = Delivery(printer, pdf)
    result = issue_test_token(
        sess.svc, sess.actor, number, manufacturer_code=maker, four_digit=four_digit,
        extended=extended, drn=drn, request_id=request_id,
    )  # fmt: skip
    deliver(out, result, as_json)
