"""Tariffs in the store: the domain :class:`~stsvend.vending.tariff.Tariff` as a JSON document.

A stored tariff never changes (a new price is a new tariff code), so services cache them.

>>> from stsvend.vending.tariff import Tariff
>>> t = Tariff.inclining("Domestic", "ZAR", [(500, "1.50"), (None, "2.00")], tax_percent="15")
>>> doc = tariff_to_dict(t, EmergencyCreditPolicy(units=100))
>>> doc["blocks"], doc["emergency"]
([[500, 1500000], [None, 2000000]], {'units': 100, 'repayment_bp': 10000})
>>> tariff_from_dict(doc) == (t, EmergencyCreditPolicy(units=100))
True

A service answers with a :class:`TariffView`, the stored document under its code:

>>> from stsvend.services.results import as_doc
>>> view = TariffView.of("DOM", t, EmergencyCreditPolicy(units=100))
>>> view.blocks, as_doc(view) == {"code": "DOM", **doc}
(((500, 1500000), (None, 2000000)), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import frozen

from stsvend import sts
from stsvend.errors import InputError
from stsvend.plaintext import parse_fixed
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.repos import accounts as repo
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.emergency import EmergencyCreditPolicy
from stsvend.vending.errors import TariffError
from stsvend.vending.roles import Action
from stsvend.vending.tariff import Block, Tariff, UnitPrice

__all__ = [
    "TariffView",
    "add_tariff",
    "list_tariffs",
    "load_tariff",
    "parse_blocks",
    "tariff_from_dict",
    "tariff_to_dict",
]


def tariff_to_dict(tariff: Tariff, emergency: EmergencyCreditPolicy) -> dict[str, Any]:
    return {
        "name": tariff.name,
        "currency": tariff.currency,
        "blocks": [[b.up_to, b.price.scaled] for b in tariff.blocks],
        "tax_bp": tariff.tax_bp,
        "fixed_charge": tariff.fixed_charge,
        "free_units": tariff.free_units,
        "resource": int(tariff.resource),
        "emergency": {"units": emergency.units, "repayment_bp": emergency.repayment_bp},
    }


@frozen
class TariffView:
    """A stored tariff as people and programs read it (never changed once stored)."""

    #: The tariff's code, how accounts name it.
    code: str
    #: A name for people.
    name: str
    #: The ISO 4217 code of its prices.
    currency: str
    #: (up to, price) per block: the block's upper bound in STS tenths of a unit of the month's
    #: total (None: the last block, unbounded) and its price per whole unit, VAT included, in
    #: 1/10 000 of the minor unit.
    blocks: tuple[tuple[int | None, int], ...]
    #: Tax (VAT) rate, basis points (1500 = 15 %); the prices include it.
    tax_bp: int
    #: Charged on the month's first purchase, minor units, VAT included.
    fixed_charge: int
    #: Free basic units a month, in STS tenths.
    free_units: int
    #: The resource as its STS number (0: electricity, 1: water, 2: gas, 3: time).
    resource: int
    #: Emergency credit: units per grant (tenths) and the share of purchases that repays it.
    emergency: EmergencyCreditPolicy

    @classmethod
    def of(cls, code: str, tariff: Tariff, emergency: EmergencyCreditPolicy) -> TariffView:
        return cls(
            code, tariff.name, tariff.currency,
            tuple((b.up_to, b.price.scaled) for b in tariff.blocks), tariff.tax_bp,
            tariff.fixed_charge, tariff.free_units, int(tariff.resource), emergency,
        )  # fmt: skip


def tariff_from_dict(doc: dict[str, Any]) -> tuple[Tariff, EmergencyCreditPolicy]:
    try:
        tariff = Tariff(
            name=doc["name"],
            currency=doc["currency"],
            blocks=tuple(Block(up, UnitPrice(price)) for up, price in doc["blocks"]),
            tax_bp=doc["tax_bp"],
            fixed_charge=doc["fixed_charge"],
            free_units=doc["free_units"],
            resource=sts.Resource(doc["resource"]),
        )
        emergency = EmergencyCreditPolicy(**doc.get("emergency", {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise TariffError(f"a stored tariff is damaged: {exc}") from None
    return tariff, emergency


def load_tariff(svc: Services, conn: Any, tariff_id: int) -> tuple[Tariff, EmergencyCreditPolicy]:
    """The tariff (and its emergency credit policy), from the cache or the store."""
    cached = svc.tariff_cache.get(tariff_id)
    if cached is None:
        cached = tariff_from_dict(repo.get_tariff_by_id(conn, tariff_id).definition)
        svc.tariff_cache[tariff_id] = cached
    assert isinstance(cached, tuple)
    return cached


def _tenths(text: str) -> int:
    value = parse_fixed(text, 1, "a block bound (units)", max_whole_digits=9)
    if value <= 0:
        raise InputError(f"block bounds are positive, in steps of 0.1 unit: {text!r}")
    return value


def parse_blocks(price: str | None, blocks: Sequence[str]) -> list[tuple[int | None, str]]:
    """``--price P`` (flat) or ``--block UP_TO:PRICE`` … ``--block :PRICE`` (units as numbers).

    >>> parse_blocks(None, ["50:1.50", ":2.00"])
    [(500, '1.50'), (None, '2.00')]
    """
    if price is not None and blocks:
        raise InputError("give either --price (flat) or --block bounds, not both")
    if price is not None:
        return [(None, price)]
    if not blocks:
        raise InputError("a tariff needs --price or at least one --block")
    out: list[tuple[int | None, str]] = []
    for item in blocks:
        bound, sep, value = item.partition(":")
        if not sep or not value:
            raise InputError(f"a block is UP_TO:PRICE (or :PRICE for the last), got {item!r}")
        out.append((_tenths(bound) if bound.strip() else None, value))
    return out


def add_tariff(
    svc: Services,
    actor: Actor,
    code: str,
    *,
    name: str,
    blocks: Sequence[tuple[int | None, str]],
    tax_percent: str = "0",
    fixed_charge: str = "0",
    free_units: int = 0,
    resource: sts.Resource = sts.Resource.ELECTRICITY,
    emergency_units: int = 0,
    emergency_repayment_bp: int = 10_000,
) -> TariffView:
    authorize(svc, actor, Action.TARIFFS_MANAGE)
    code = code.strip()
    if not code or len(code) > 32:
        raise InputError("a tariff code is 1-32 characters")
    tariff = Tariff.inclining(
        name,
        svc.config.currency,
        blocks,
        tax_percent=tax_percent,
        fixed_charge=fixed_charge,
        free_units=free_units,
        resource=resource,
    )
    emergency = EmergencyCreditPolicy(units=emergency_units, repayment_bp=emergency_repayment_bp)
    doc = tariff_to_dict(tariff, emergency)
    with svc.store.transaction() as conn:
        repo.add_tariff(conn, code, name, doc, svc.now())
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="tariffs.add",
            target=code,
        )
    return TariffView.of(code, tariff, emergency)


def list_tariffs(svc: Services, actor: Actor) -> tuple[TariffView, ...]:
    authorize(svc, actor, Action.TARIFFS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(
            TariffView.of(t.code, *tariff_from_dict(t.definition)) for t in repo.list_tariffs(conn)
        )
