"""``--deliver PORT``: a sale's tokens straight into a connected meter, after the sale.

The sale is recorded first; then the tokens go to the meter through the ``serial`` meter
transport (:mod:`stsvend.adapters.meter`), and what the meter answered is shown after the
receipt (with ``--json``, under the document's ``delivery`` key).  A delivery that fails — the
port does not open, the meter does not answer in time, it is another meter, it refuses a token
— never undoes the sale: the command says so and ends with ``not_delivered`` (exit 10); the
receipt on screen and any reprint still carry the tokens, to be entered by hand or delivered
again with ``stsvend reprint N --deliver PORT``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from stsvend_cli.common import console

if TYPE_CHECKING:
    from stsvend.adapters.meter import MeterDelivery, MeterTransport, TokensNotDelivered
    from stsvend.services.context import Services
    from stsvend.services.receipt_model import SaleReceipt

__all__ = ["deliver_options", "prepare", "send_to_meter"]

F = TypeVar("F", bound=Callable[..., Any])
TRANSPORT = "serial"


def deliver_options(fn: F) -> F:
    """``--deliver PORT`` and ``--deliver-timeout SECONDS``."""
    fn = click.option(
        "--deliver-timeout", "deliver_timeout", default="10", show_default=True,
        metavar="SECONDS", help="How long to wait for each answer of the meter.",
    )(fn)  # fmt: skip
    return click.option(
        "--deliver", "deliver_port", default=None, metavar="PORT",
        help="Also enter the tokens on the meter at PORT: a serial device, a pty or "
             "socket://host:port (the sale is recorded first).",
    )(fn)  # fmt: skip


def prepare(
    svc: Services, port: str | None, timeout_text: str
) -> tuple[MeterTransport, float] | None:
    """The transport and the timeout, checked before anything is sold (None: no --deliver)."""
    if port is None:
        return None
    from stsvend.adapters.meter import transport
    from stsvend.errors import InputError
    from stsvend.plaintext import parse_fixed

    tenths = parse_fixed(timeout_text, 1, "the delivery timeout", max_whole_digits=3)
    if not 1 <= tenths <= 3000:
        raise InputError("the delivery timeout is 0.1 to 300 seconds")
    if not port.strip():
        raise InputError("--deliver names a port: a device, a pty or socket://host:port")
    return transport(TRANSPORT, svc.config.adapter_settings("meter", TRANSPORT)), tenths / 10


def send_to_meter(
    link: tuple[MeterTransport, float], port: str, result: SaleReceipt
) -> tuple[MeterDelivery | None, TokensNotDelivered | None]:
    """Enter the receipt's tokens on the meter; the answers, or why they did not get there."""
    from stsvend.adapters.meter import TokensNotDelivered

    tokens = [(t.label, t.digits) for t in result.tokens if t.digits]
    drn = result.meter.drn if result.meter is not None else ""
    if not tokens:
        return None, TokensNotDelivered(f"receipt {result.receipt} has no token to deliver")
    transport, timeout = link
    try:
        delivery = transport.deliver(port, drn, tokens, timeout=timeout)
    except TokensNotDelivered as exc:
        return None, _kept(result, str(exc))
    if delivery.delivered:
        return delivery, None
    refused = delivery.answers[-1]
    return delivery, _kept(result, f"the meter refused {refused.token}: {refused.message} "
                                   f"({refused.name})")  # fmt: skip


def _kept(result: SaleReceipt, why: str) -> TokensNotDelivered:
    from stsvend.adapters.meter import TokensNotDelivered

    return TokensNotDelivered(
        f"{why}. The sale stands as receipt {result.receipt}: enter its tokens by hand, or "
        f"deliver them again with `stsvend reprint {result.receipt} --deliver PORT`"
    )


def show(delivery: MeterDelivery | None) -> None:
    """The meter's answers and registers, for people."""
    if delivery is None:
        return
    for answer in delivery.answers:
        mark = "accepted" if answer.accepted else "REFUSED"
        console().print(f"meter {delivery.meter}: {answer.token}: {mark}: {answer.message}",
                        markup=False)  # fmt: skip
    if delivery.not_sent:
        console().print(f"meter {delivery.meter}: {delivery.not_sent} token(s) not entered",
                        markup=False)  # fmt: skip
    for name, reading in delivery.registers.items():
        text = reading
        if isinstance(reading, dict):
            text = reading.get("display", reading.get("value"))
        console().print(f"meter {delivery.meter}: register {name}: {text}",
                        markup=False)  # fmt: skip


def delivery_doc(
    delivery: MeterDelivery | None, failure: TokensNotDelivered | None
) -> dict[str, Any]:
    """The ``delivery`` key of the ``--json`` document."""
    from stsvend.services.results import as_doc

    doc: dict[str, Any] = {"delivered": failure is None}
    if delivery is not None:
        doc.update(as_doc(delivery))
    if failure is not None:
        doc["error"] = {"code": failure.code, "message": str(failure)}
    return doc
