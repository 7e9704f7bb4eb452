"""Credit registers of a meter, one per resource and form (units or currency).

A register's number is the selector of the clear credit token (clause 6.3.13, Table 28 as
reported in ``docs/sts.md`` §2.2), which is also the class 0 subclass that credits it:
subclass 0 credits the electricity register, subclass 4 the electricity currency register.
Unit registers count tenths of the unit (0.1 kWh, 0.1 m³, 0.1 min); currency registers count
0.00001 of the currency unit.  Values are integers; a register may go below zero only while a
meter-side emergency allowance is in use (see :mod:`stsvend.meter.emergency`).

>>> regs = Registers.empty({RegisterKind.ELECTRICITY})
>>> regs = regs.add(RegisterKind.ELECTRICITY, 125)
>>> RegisterKind.ELECTRICITY.format(regs[RegisterKind.ELECTRICITY])
'12.5 kWh'
>>> RegisterKind.parse("water currency").format(150000)
'1.50000 ¤'
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

from attrs import field, frozen

from stsvend.sts.layouts import CreditSubclass

__all__ = ["CLEAR_ALL", "RegisterKind", "Registers"]

#: The clear credit selector for "every register".
CLEAR_ALL = 0xFFFF


class RegisterKind(enum.IntEnum):
    """A credit register; the value is its clear credit selector and crediting subclass."""

    ELECTRICITY = CreditSubclass.ELECTRICITY
    WATER = CreditSubclass.WATER
    GAS = CreditSubclass.GAS
    TIME = CreditSubclass.TIME
    ELECTRICITY_CURRENCY = CreditSubclass.ELECTRICITY_CURRENCY
    WATER_CURRENCY = CreditSubclass.WATER_CURRENCY
    GAS_CURRENCY = CreditSubclass.GAS_CURRENCY
    TIME_CURRENCY = CreditSubclass.TIME_CURRENCY

    @property
    def is_currency(self) -> bool:
        return self >= 4

    @property
    def scale(self) -> int:
        """Register counts per display unit: 10 (tenths) or 100 000 (0.00001 currency)."""
        return 100_000 if self.is_currency else 10

    @property
    def unit(self) -> str:
        return _UNITS[self % 4] if not self.is_currency else "¤"

    @property
    def key(self) -> str:
        """The name used in profiles, snapshots and JSON output ("electricity_currency")."""
        return self.name.lower()

    def format(self, value: int) -> str:
        """The register value as the meter displays it, exact (no float)."""
        places = 5 if self.is_currency else 1
        return f"{Decimal(value).scaleb(-places):.{places}f} {self.unit}"

    @classmethod
    def parse(cls, text: str | int) -> RegisterKind:
        """A register from its name ("electricity", "water currency") or selector number."""
        if isinstance(text, int) and not isinstance(text, bool):
            return cls(text)
        name = str(text).strip().lower().replace(" ", "_").replace("-", "_")
        try:
            return cls[name.upper()]
        except KeyError:
            names = ", ".join(k.key for k in cls)
            raise ValueError(f"unknown register {text!r} (one of {names})") from None


_UNITS = {0: "kWh", 1: "m³", 2: "m³", 3: "min"}


def _freeze(values: Mapping[RegisterKind, int]) -> dict[RegisterKind, int]:
    return {RegisterKind(k): int(v) for k, v in sorted(values.items())}


@frozen
class Registers:
    """The values of the registers a meter has (an immutable mapping kind → value)."""

    values: dict[RegisterKind, int] = field(converter=_freeze)

    @classmethod
    def empty(cls, kinds: Iterable[RegisterKind]) -> Registers:
        return cls(dict.fromkeys(kinds, 0))

    def __getitem__(self, kind: RegisterKind) -> int:
        return self.values[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self.values

    def __iter__(self) -> Iterator[RegisterKind]:
        return iter(self.values)

    def with_value(self, kind: RegisterKind, value: int) -> Registers:
        return Registers({**self.values, kind: value})

    def add(self, kind: RegisterKind, amount: int) -> Registers:
        return self.with_value(kind, self.values[kind] + amount)

    def cleared(self, kinds: Iterable[RegisterKind]) -> Registers:
        return Registers({**self.values, **dict.fromkeys(kinds, 0)})

    def as_dict(self) -> dict[str, int]:
        return {k.key: v for k, v in self.values.items()}
