"""Token field layouts and what their fields mean, as data (IEC 62055-41 clause 6.2 and 6.3).

Every token is a 2-bit class and a 64-bit block: the 4-bit subclass in bits 63..60, the fields
below it, and the CRC in bits 15..0 (``docs/sts.md`` §2).  Each layout lists its fields (name,
least significant bit, width, :class:`FieldKind`) for the 44 bits between subclass and CRC; the
codec, the batch codec, the meter, the security module and the services all read this table and
no other.

Field names are those of the CLI batch contract (``vectors/README.md``).  Subclass 8 of class 2
has two layouts: EA07's optional third key change token carries the new SGC, EA11's third token a
section of the 128-bit key.  :data:`KEY_CHANGE_SECTIONS` says, per EA, which token carries which
bits of the new decoder key, the KEN and the SGC (clause 6.2.7–6.2.13).

>>> LAYOUTS[(0, 0)].field_names
('rnd', 'tid', 'amount_field')
>>> layout_for(2, 8, "11").field_names
('sgclo', 'nkmo1')
>>> layout_for(2, ManagementSubclass.MAX_POWER_LIMIT).value_kind
<FieldKind.WATTS: 'watts'>
>>> [int(s.subclass) for s in KEY_CHANGE_SECTIONS["11"]]
[3, 4, 8, 9]
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from attrs import frozen

from stsvend.errors import UnsupportedTokenError

__all__ = [
    "CRC_C_TYPES",
    "KEY_CHANGE_SECTIONS",
    "KEY_CHANGE_SUBCLASSES",
    "LAYOUTS",
    "CreditSubclass",
    "Field",
    "FieldKind",
    "KeySection",
    "KeySource",
    "Layout",
    "ManagementSubclass",
    "Part",
    "TestSubclass",
    "TokenClass",
    "key_sections",
    "layout_for",
    "management_layouts",
    "section_of",
]


class TokenClass(enum.IntEnum):
    """The 2-bit token class (clause 6.2.1)."""

    TRANSFER_CREDIT = 0
    INITIATE_METER_TEST = 1
    METER_MANAGEMENT = 2
    RESERVED = 3


class CreditSubclass(enum.IntEnum):
    """Class 0 subclasses: units credit (0-3) and currency credit (4-7) per resource."""

    ELECTRICITY = 0
    WATER = 1
    GAS = 2
    TIME = 3
    ELECTRICITY_CURRENCY = 4
    WATER_CURRENCY = 5
    GAS_CURRENCY = 6
    TIME_CURRENCY = 7


class TestSubclass(enum.IntEnum):
    """Class 1 subclasses: test/display with a 2- or 4-digit manufacturer code, extended read."""

    __test__ = False  # not a pytest test class

    TEST_2_DIGIT = 0
    TEST_4_DIGIT = 1
    EXTENDED_READ = 2


class ManagementSubclass(enum.IntEnum):
    """Class 2 subclasses: settings of one meter and the sections of a key change set."""

    MAX_POWER_LIMIT = 0
    CLEAR_CREDIT = 1
    TARIFF_RATE = 2
    KEY_SECTION_1 = 3
    KEY_SECTION_2 = 4
    CLEAR_TAMPER = 5
    PHASE_UNBALANCE_LIMIT = 6
    WATER_METER_FACTOR = 7
    KEY_SECTION_3 = 8
    KEY_SECTION_4 = 9

    @property
    def key(self) -> str:
        """The name used in requests, receipts and the token log ("max_power_limit")."""
        return self.name.lower()


class FieldKind(enum.Enum):
    """What a field's bits mean; the value is the field's meaningful name, where it has one."""

    RANDOM = "rnd"
    TID = "tid"
    #: Units of 0.1 kWh / m³ / min, exponent and mantissa coded (clause 6.3.6.2).
    AMOUNT = "transfer_amount"
    #: 0.00001 of the currency unit, with the sign/exponent nibble ``se`` (clause 6.3.6.3).
    CURRENCY_AMOUNT = "currency_amount"
    CURRENCY_SIGN_EXPONENT = "se"
    #: Watts, coded like an amount (clause 6.3.9, 6.3.10).
    WATTS = "watts"
    #: A clear credit register selector (clause 6.3.13).
    REGISTER = "register"
    #: A raw 16-bit value whose meaning the standard leaves open (tariff rate, water factor).
    RAW = "raw"
    #: Bits that must be zero.
    PAD = "pad"
    CONTROL = "control"
    MANUFACTURER_CODE = "manufacturer_code"
    #: 32 bits of the new decoder key (shown as hex, withheld by the security module).
    KEY_SECTION = "key_section"
    KEN = "ken"
    KRN = "krn"
    KEY_TYPE = "key_type"
    TI = "ti"
    SGC = "sgc"
    ROLLOVER = "rollover"
    #: The EA07 first section's flag that a third token with the new SGC follows.
    THIRD_SECTION_FOLLOWS = "third_section"


@frozen
class Field:
    """One field of a token's 64-bit block."""

    name: str
    lsb: int
    width: int
    kind: FieldKind = FieldKind.RAW
    #: A fixed value the field must hold (padding), or None for a free field.
    fixed: int | None = None

    @property
    def max(self) -> int:
        return (1 << self.width) - 1


@frozen
class Layout:
    """The layout of one token type."""

    token_class: int
    subclass: int
    name: str
    clause: str
    fields: tuple[Field, ...]
    encrypted: bool = True
    #: Currency tokens use CRC_C (clause 6.3.22).
    crc_c: bool = False
    #: EA variant for layouts that differ by algorithm (class 2 subclass 8), else None.
    ea: str | None = None
    #: Short names of a setting token: what a receipt prints and what a meter reports.
    label: str | None = None
    setting: str | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.fixed is None)

    @property
    def has_tid(self) -> bool:
        return any(f.kind is FieldKind.TID for f in self.fields)

    @property
    def value_kind(self) -> FieldKind | None:
        """The kind of the 16-bit value field of a TID-bearing token, else None."""
        for f in self.fields:
            if f.name == "amount_field":
                return f.kind
        return None

    @property
    def key_change(self) -> bool:
        return self.token_class == TokenClass.METER_MANAGEMENT and section_of(self.subclass) > 0

    def fields_of(self, kind: FieldKind) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind is kind and f.fixed is None)


_RND = Field("rnd", 56, 4, FieldKind.RANDOM)
_SE = Field("se", 56, 4, FieldKind.CURRENCY_SIGN_EXPONENT)
_TID = Field("tid", 32, 24, FieldKind.TID)


def _value(kind: FieldKind) -> tuple[Field, ...]:
    return (_RND, _TID, Field("amount_field", 16, 16, kind))


def _credit(sub: CreditSubclass, name: str) -> Layout:
    return Layout(0, sub, name, "6.2.2 / 6.3.5 / 6.3.6.2", _value(FieldKind.AMOUNT))


def _currency(sub: CreditSubclass, name: str) -> Layout:
    fields = (_SE, _TID, Field("amount_field", 16, 16, FieldKind.CURRENCY_AMOUNT))
    return Layout(0, sub, name, "6.2.2 / 6.3.6.3 / 6.3.22", fields, crc_c=True)


def _setting(
    sub: ManagementSubclass, kind: FieldKind, name: str, clause: str, label: str, setting: str
) -> Layout:
    return Layout(2, sub, name, clause, _value(kind), label=label, setting=setting)


_C, _M, _T, _K = CreditSubclass, ManagementSubclass, TestSubclass, FieldKind

_ALL = (
    _credit(_C.ELECTRICITY, "electricity credit (0.1 kWh)"),
    _credit(_C.WATER, "water credit (0.1 m³)"),
    _credit(_C.GAS, "gas credit (0.1 m³)"),
    _credit(_C.TIME, "time credit (0.1 min)"),
    _currency(_C.ELECTRICITY_CURRENCY, "electricity currency credit"),
    _currency(_C.WATER_CURRENCY, "water currency credit"),
    _currency(_C.GAS_CURRENCY, "gas currency credit"),
    _currency(_C.TIME_CURRENCY, "time currency credit"),
    Layout(1, _T.TEST_2_DIGIT, "initiate meter test/display (2-digit manufacturer code)",
           "6.2.3 / 6.3.8", (Field("control", 24, 36, _K.CONTROL),
                             Field("manufacturer_code", 16, 8, _K.MANUFACTURER_CODE)),
           encrypted=False),
    Layout(1, _T.TEST_4_DIGIT, "initiate meter test/display (4-digit manufacturer code)",
           "6.2.3 / 6.3.8", (Field("control", 32, 28, _K.CONTROL),
                             Field("manufacturer_code", 16, 16, _K.MANUFACTURER_CODE)),
           encrypted=False),
    Layout(1, _T.EXTENDED_READ, "extended token read", "6.2.3 (STS extended read)",
           (Field("control", 24, 36, _K.CONTROL),
            Field("manufacturer_code", 16, 8, _K.MANUFACTURER_CODE)), encrypted=False),
    _setting(_M.MAX_POWER_LIMIT, _K.WATTS, "set maximum power limit (W)", "6.2.4 / 6.3.9",
             "Max power limit", "maximum power limit"),
    _setting(_M.CLEAR_CREDIT, _K.REGISTER, "clear credit", "6.2.5 / 6.3.13",
             "Clear credit", "clear credit"),
    _setting(_M.TARIFF_RATE, _K.RAW, "set tariff rate", "6.2.6 / 6.3.11",
             "Tariff rate", "tariff rate"),
    Layout(2, _M.KEY_SECTION_1, "set 1st section decoder key", "6.2.7 / 6.3.14-6.3.19",
           (Field("kenho", 56, 4, _K.KEN), Field("new_krn", 52, 4, _K.KRN),
            Field("ro", 51, 1, _K.ROLLOVER), Field("res", 50, 1, _K.THIRD_SECTION_FOLLOWS),
            Field("new_kt", 48, 2, _K.KEY_TYPE), Field("nkho", 16, 32, _K.KEY_SECTION))),
    Layout(2, _M.KEY_SECTION_2, "set 2nd section decoder key", "6.2.8 / 6.3.14-6.3.19",
           (Field("kenlo", 56, 4, _K.KEN), Field("new_ti", 48, 8, _K.TI),
            Field("nklo", 16, 32, _K.KEY_SECTION))),
    _setting(_M.CLEAR_TAMPER, _K.PAD, "clear tamper condition", "6.2.9 / 6.3.20",
             "Clear tamper", "clear tamper"),
    _setting(_M.PHASE_UNBALANCE_LIMIT, _K.WATTS, "set maximum phase power unbalance limit (W)",
             "6.2.10 / 6.3.10", "Phase unbalance limit", "phase power unbalance limit"),
    _setting(_M.WATER_METER_FACTOR, _K.RAW, "set water meter factor", "6.2.11 / 6.3.12",
             "Water meter factor", "water meter factor"),
    Layout(2, _M.KEY_SECTION_3, "set 3rd section decoder key (EA07: new SGC)",
           "6.2.12 (3-token EA07 set)",
           (Field("new_sgc", 36, 24, _K.SGC), Field("pad", 16, 20, _K.PAD, fixed=0)), ea="07"),
    Layout(2, _M.KEY_SECTION_3, "set 3rd section decoder key", "6.2.12 / 6.3.16",
           (Field("sgclo", 48, 12, _K.SGC), Field("nkmo1", 16, 32, _K.KEY_SECTION)), ea="11"),
    Layout(2, _M.KEY_SECTION_4, "set 4th section decoder key", "6.2.13 / 6.3.17",
           (Field("sgcho", 48, 12, _K.SGC), Field("nkmo2", 16, 32, _K.KEY_SECTION)), ea="11"),
)  # fmt: skip

#: Layouts by (class, subclass); class 2 subclass 8 maps to its EA07 form here.
_LAYOUTS: dict[tuple[int, int], Layout] = {}
_BY_EA: dict[tuple[int, int, str], Layout] = {}
for _layout in _ALL:
    _LAYOUTS.setdefault((_layout.token_class, _layout.subclass), _layout)
    if _layout.ea is not None:
        _BY_EA[(_layout.token_class, _layout.subclass, _layout.ea)] = _layout
LAYOUTS: Mapping[tuple[int, int], Layout] = _LAYOUTS
#: The (class, subclass) pairs whose CRC is CRC_C (checked before the layout is known).
CRC_C_TYPES = frozenset((x.token_class, x.subclass) for x in _ALL if x.crc_c)
_EA_VARIANTS = frozenset((c, s) for c, s, _ in _BY_EA)


def layout_for(token_class: int, subclass: int, ea: str | None = None) -> Layout:
    """The layout of a token type; ``ea`` ("07"/"11") picks between algorithm variants."""
    if ea is not None:
        variant = _BY_EA.get((token_class, subclass, ea))
        if variant is not None:
            return variant
        if (token_class, subclass) in _EA_VARIANTS:
            raise UnsupportedTokenError(
                f"class {token_class} subclass {subclass} is not defined for EA{ea}"
            )
    layout = LAYOUTS.get((token_class, subclass))
    if layout is None:
        raise UnsupportedTokenError(
            f"class {token_class} subclass {subclass} is not a token type stsvend handles"
        )
    return layout


def management_layouts() -> tuple[Layout, ...]:
    """The class 2 setting tokens (every class 2 layout that is not a key change section)."""
    return tuple(
        x for x in _ALL if x.token_class == TokenClass.METER_MANAGEMENT and x.setting is not None
    )


# -- how a key change set carries the new key, KEN and SGC ---------------------------------------


class KeySource(enum.Enum):
    """The value a key change field carries bits of."""

    KEY = "key"  #: the new decoder key, as a big-endian integer
    KEN = "ken"
    SGC = "sgc"


@frozen
class Part:
    """``field`` holds bits ``shift .. shift + width - 1`` of ``source``."""

    field: str
    source: KeySource
    shift: int
    width: int

    def take(self, value: int) -> int:
        return (value >> self.shift) & ((1 << self.width) - 1)


@frozen
class KeySection:
    """One token of a key change set: its section number, subclass and the parts it carries."""

    number: int
    subclass: ManagementSubclass
    parts: tuple[Part, ...]
    #: EA07's third token is sent only on request (the first section's ``res`` flag says so).
    optional: bool = False


_KEY, _KEN, _SGC = KeySource.KEY, KeySource.KEN, KeySource.SGC
_KEN_PARTS = (Part("kenho", _KEN, 4, 4), Part("kenlo", _KEN, 0, 4))

#: Per EA: the tokens of a key change set in entry order (clause 6.2.7–6.2.13, ``docs/sts.md`` §9).
KEY_CHANGE_SECTIONS: Mapping[str, tuple[KeySection, ...]] = {
    "07": (
        KeySection(1, _M.KEY_SECTION_1, (_KEN_PARTS[0], Part("nkho", _KEY, 32, 32))),
        KeySection(2, _M.KEY_SECTION_2, (_KEN_PARTS[1], Part("nklo", _KEY, 0, 32))),
        KeySection(3, _M.KEY_SECTION_3, (Part("new_sgc", _SGC, 0, 24),), optional=True),
    ),
    "11": (
        KeySection(1, _M.KEY_SECTION_1, (_KEN_PARTS[0], Part("nkho", _KEY, 96, 32))),
        KeySection(2, _M.KEY_SECTION_2, (_KEN_PARTS[1], Part("nklo", _KEY, 0, 32))),
        KeySection(3, _M.KEY_SECTION_3, (Part("sgclo", _SGC, 0, 12), Part("nkmo1", _KEY, 64, 32))),
        KeySection(4, _M.KEY_SECTION_4, (Part("sgcho", _SGC, 12, 12), Part("nkmo2", _KEY, 32, 32))),
    ),
}  # fmt: skip

_SECTION_OF: dict[int, int] = {
    s.subclass: s.number for sections in KEY_CHANGE_SECTIONS.values() for s in sections
}

#: Class 2 subclasses that carry sections of a new decoder key: made only as a key change set.
KEY_CHANGE_SUBCLASSES = frozenset(_SECTION_OF)


def key_sections(ea: str, *, with_optional: bool = True) -> tuple[KeySection, ...]:
    """The sections of a key change set under EA ``ea`` ("07"/"11")."""
    try:
        sections = KEY_CHANGE_SECTIONS[ea]
    except KeyError:
        raise UnsupportedTokenError(f"no key change set is defined for EA{ea}") from None
    return sections if with_optional else tuple(s for s in sections if not s.optional)


def section_of(subclass: int) -> int:
    """The key change section number a class 2 subclass carries (1-4), or 0 for none."""
    return _SECTION_OF.get(subclass, 0)
