"""What the tester sees of a token: field names checked, the TID as a time, the amount in units.

A TID counts whole UTC minutes from the base date (``docs/sts.md`` §3), so the same TID is a
different time under each base date: given one, the time under it; given none, under each.
Amounts are shown in their unit (0.1 kWh, m³ or min, 0.00001 of the currency, watts), as
exact decimal text, never through a float.

>>> from stsvend.sts.layouts import layout_for
>>> desc = describe(layout_for(0, 0), {"rnd": 5, "tid": 5871715, "amount_field": 1}, "2014")
>>> desc["amount"], desc["tid_at"]
({'value': '0.1', 'unit': 'kWh'}, {'2014': '2025-03-01T13:55:00+00:00'})
>>> tid_from_text("2026-12-03T15:52Z", "2014", now=None)
6796312
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from stsvend.errors import InputError

__all__ = ["allowed_fields", "check_field_names", "describe", "readable_lines", "tid_from_text"]

#: Class 0 subclasses 0-3 (and their currency forms 4-7): the unit of the transfer amount.
_UNITS = {0: "kWh", 1: "m³", 2: "m³", 3: "min"}
_BASE_DATES = ("1993", "2014", "2035")


def tid_from_text(text: str, base_date: str, now: datetime | None) -> int:
    """``--tid``: ``now`` (the TID a vending system would issue this minute), an ISO 8601
    time (its minute; UTC if no zone) or a number (0 to 2^24 - 1)."""
    from stsvend.plaintext import parse_whole
    from stsvend.sts.tid import TID_MAX, BaseDate, tid_at, vendable_tid

    base = BaseDate.parse(base_date)
    value = text.strip()
    if value.lower() == "now":
        # The reserved minute 00:01 is never issued: "now" at 00:01 gives 00:02, as a sale would.
        return vendable_tid(tid_at(now or datetime.now(UTC), base))
    if value.isascii() and value.isdigit():
        return parse_whole(value, "the TID", 0, TID_MAX)
    try:
        if not value.isascii():
            raise ValueError(value)
        when = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"--tid is now, a number or an ISO 8601 time (2026-01-31T08:00Z), got {text!r}"
        ) from None
    return tid_at(when if when.tzinfo is not None else when.replace(tzinfo=UTC), base)


def allowed_fields(layout: Any) -> frozenset[str]:
    """The ``--field`` names a layout takes: its raw fields and their meaningful forms."""
    from stsvend.sts.layouts import FieldKind

    names = set(layout.field_names)
    kind = layout.value_kind
    if kind in (FieldKind.AMOUNT, FieldKind.CURRENCY_AMOUNT, FieldKind.WATTS):
        names.add(kind.value)
    if layout.key_change:
        names |= {"ken", "new_sgc", "new_decoder_key"}
    return frozenset(names)


def check_field_names(layout: Any, fields: Mapping[str, Any]) -> None:
    """Refuse a field the layout does not have (it would otherwise be silently dropped).

    >>> from stsvend.sts.layouts import layout_for
    >>> try:
    ...     check_field_names(layout_for(0, 0), {"tid": 1, "amout": 5})
    ... except InputError as exc:
    ...     print(exc.message.split(" (its")[0])
    electricity credit (0.1 kWh) has no field amout
    """
    allowed = allowed_fields(layout)
    unknown = sorted(name for name in fields if name not in allowed)
    if unknown:
        raise InputError(
            f"{layout.name} has no field {', '.join(unknown)} "
            f"(its fields: {', '.join(sorted(allowed))})"
        )


def _decimal(value: int, places: int) -> str:
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 10**places)
    return f"{sign}{whole}.{part:0{places}d}" if places else f"{sign}{whole}"


def _amount(layout: Any, fields: Mapping[str, int]) -> dict[str, str] | None:
    from stsvend.sts.amount import decode_amount, decode_currency_amount
    from stsvend.sts.layouts import FieldKind

    kind = layout.value_kind
    if kind is FieldKind.AMOUNT:
        unit = _UNITS.get(layout.subclass % 4, "units")
        return {"value": _decimal(decode_amount(fields["amount_field"]), 1), "unit": unit}
    if kind is FieldKind.CURRENCY_AMOUNT:
        value = decode_currency_amount(fields["amount_field"], fields["se"])
        return {"value": _decimal(value, 5), "unit": "currency"}
    if kind is FieldKind.WATTS:
        return {"value": str(decode_amount(fields["amount_field"])), "unit": "W"}
    return None


def _tid_times(tid: int, base_date: str | None) -> dict[str, str]:
    from stsvend.sts.tid import BaseDate, datetime_of_tid

    dates = _BASE_DATES if base_date is None else (base_date,)
    return {d: datetime_of_tid(tid, BaseDate.parse(d)).isoformat() for d in dates}


def describe(layout: Any, fields: Mapping[str, int], base_date: str | None) -> dict[str, Any]:
    """A token's fields as ``--json`` shows them: raw and meaningful, the amount in its unit
    (``amount``, or None) and the TID's time under each base date considered (``tid_at``)."""
    from stsvend.sts.batch import meaningful_fields

    out: dict[str, Any] = {
        "token_class": layout.token_class,
        "subclass": layout.subclass,
        "name": layout.name,
        "fields": meaningful_fields(layout, dict(fields)),
        "amount": _amount(layout, fields),
    }
    if "tid" in fields:
        from stsvend.sts.tid import is_reserved_tid

        out["tid_at"] = _tid_times(fields["tid"], base_date)
        out["reserved_minute"] = is_reserved_tid(fields["tid"])
    return out


def readable_lines(desc: Mapping[str, Any]) -> list[str]:
    """The lines below the field table: the amount, then the TID's time per base date.

    >>> readable_lines({"amount": {"value": "0.1", "unit": "kWh"},
    ...                 "tid_at": {"2014": "2025-03-01T13:55:00+00:00"}, "fields": {"tid": 1}})
    ['amount: 0.1 kWh', 'TID 1 = 2025-03-01 13:55 UTC (base date 2014)']
    """
    lines = []
    if desc.get("amount"):
        lines.append(f"amount: {desc['amount']['value']} {desc['amount']['unit']}")
    for base, when in desc.get("tid_at", {}).items():
        shown = datetime.fromisoformat(when).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"TID {desc['fields']['tid']} = {shown} (base date {base})")
    if desc.get("reserved_minute"):
        lines.append("the TID is the reserved minute 00:01: a vending system never issues it")
    return lines

