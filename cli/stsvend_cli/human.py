"""Values as people read them: money in the currency's format, units in the meter's unit,
percentages, local times to the second, and table cells without Python's spelling.

Everything here takes the plain values the services return (integers of minor units, tenths of
a unit, ISO 8601 text) and gives text; nothing is parsed back from it.

>>> money_text(123450, "ZAR"), money_text(-5000, "KES"), money_text(5000, "UGX")
('ZAR 1,234.50', 'KES -50.00', 'UGX 5,000')
>>> units_text(255, "kWh"), units_text(10, "min"), unit_name("water")
('25.5 kWh', '1.0 minutes', 'm³')
>>> price_text("2.000000", "ZAR", "kWh"), price_text("1.234500", "ZAR", "m³")
('ZAR 2.00/kWh', 'ZAR 1.2345/m³')
>>> percent_from_bp(1500), percent_from_bp(1550), percent_from_bp(1525)
('15%', '15.5%', '15.25%')
>>> time_text("2026-12-03T15:55:22.494174+00:00", "Africa/Johannesburg")
'2026-12-03 17:55:22 +02:00'
>>> cell(True), cell(None), cell({"2014": 6796316}), cell(["a", "b"])
('yes', '', '2014: 6796316', 'a, b')
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "cell",
    "money_text",
    "percent_from_bp",
    "price_text",
    "time_text",
    "unit_name",
    "units_text",
]

# The units a resource is measured in (STS tenths of these), and how a person reads the
# services' short names ("min" is written out: "25.0 min" reads like a duration limit).
_RESOURCE_UNITS = {"electricity": "kWh", "water": "m³", "gas": "m³", "time": "minutes"}
_SPELLED = {"min": "minutes"}


def money_text(minor: int, currency: str) -> str:
    """Minor units as the currency's amount with its code, digits grouped by thousands."""
    from stsvend.vending.money import Money

    value = Money(int(minor), currency)
    sign = "-" if value.minor < 0 else ""
    return f"{currency} {sign}{abs(value.to_decimal()):,.{value.digits}f}"


def unit_name(unit_or_resource: str | int | None) -> str:
    """The unit a person reads: from a resource (its name or STS number, as stored with a
    tariff) or the services' unit; "kWh" if none.

    >>> unit_name(1), unit_name("min"), unit_name(None)
    ('m³', 'minutes', 'kWh')
    """
    if unit_or_resource is None or unit_or_resource == "":
        return "kWh"
    if isinstance(unit_or_resource, int) and not isinstance(unit_or_resource, bool):
        names = tuple(_RESOURCE_UNITS)  # electricity, water, gas, time: STS subclasses 0-3
        return _RESOURCE_UNITS[names[unit_or_resource]] if 0 <= unit_or_resource < 4 else "kWh"
    text = str(unit_or_resource)
    return _RESOURCE_UNITS.get(text.lower(), _SPELLED.get(text, text))


def units_text(tenths: int, unit: str | None = "kWh") -> str:
    """STS tenths of a unit, e.g. ``25.5 kWh`` (exact: never through a float)."""
    sign = "-" if tenths < 0 else ""
    value = abs(int(tenths))
    return f"{sign}{value // 10}.{value % 10} {unit_name(unit)}"


def price_text(price: str | None, currency: str, unit: str | None = "kWh") -> str:
    """A unit price as stored ("2.000000") in the currency's format, trailing zeros beyond
    the currency's decimals dropped: ``ZAR 2.00/kWh``."""
    from stsvend.vending.money import currency_digits

    if price is None:
        return ""
    digits = currency_digits(currency)
    value = Decimal(str(price))
    text = f"{value:,.{max(digits, 4)}f}"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(digits, "0")
    shown = f"{whole}.{frac}" if frac else whole
    per = {"minutes": "min"}.get(unit_name(unit), unit_name(unit))  # "per minute", not minutes
    return f"{currency} {shown}/{per}"


def percent_from_bp(bp: int) -> str:
    """Basis points as a percentage without needless zeros: 1500 → ``15%``."""
    value = Decimal(int(bp)) / 100
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def time_text(value: str | datetime | None, zone: str | Any | None = None) -> str:
    """A time to the second, in ``zone`` (a name or tzinfo) if given, with its UTC offset."""
    if value is None or value == "":
        return ""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if zone is not None and when.tzinfo is not None:
        if isinstance(zone, str):
            from zoneinfo import ZoneInfo

            zone = ZoneInfo(zone)
        when = when.astimezone(zone)
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    offset = when.strftime("%z")
    return f"{text} {offset[:3]}:{offset[3:]}" if offset else text


def cell(value: Any) -> str:
    """A table cell: yes/no for flags, nothing for None, ``key: value`` lists for mappings."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell(v) for v in value)
    return str(value)
