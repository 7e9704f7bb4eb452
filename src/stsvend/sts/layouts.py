"""Token field layouts, as data (IEC 62055-41 clause 6.2 and 6.3; ``sts-reference.md`` §2).

Every token is a 2-bit class and a 64-bit block: the 4-bit subclass in bits 63..60, the fields
below it, and the CRC in bits 15..0.  Each layout lists its fields (name, least significant bit,
width) for the 44 bits between subclass and CRC; the codec reads only this table.

Field names are those of the CLI batch contract (``vectors/README.md``).  Subclass 8 of class 2
has two layouts: EA07's optional third key change token carries the new SGC, EA11's third token a
section of the 128-bit key.

>>> LAYOUTS[(0, 0)].field_names
('rnd', 'tid', 'amount_field')
>>> layout_for(2, 8, "11").field_names
('sgclo', 'nkmo1')
"""

from __future__ import annotations

from attrs import frozen

from stsvend.errors import UnsupportedTokenError

__all__ = ["LAYOUTS", "Field", "Layout", "layout_for"]


@frozen
class Field:
    """One field of a token's 64-bit block."""

    name: str
    lsb: int
    width: int
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

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.fixed is None)

    @property
    def has_tid(self) -> bool:
        return any(f.name == "tid" for f in self.fields)


_RND = Field("rnd", 56, 4)
_SE = Field("se", 56, 4)
_TID = Field("tid", 32, 24)
_AMOUNT = Field("amount_field", 16, 16)
_TID_LAYOUT = (_RND, _TID, _AMOUNT)


def _credit(sub: int, name: str) -> Layout:
    return Layout(0, sub, name, "6.2.2 / 6.3.5 / 6.3.6.2", _TID_LAYOUT)


def _currency(sub: int, name: str) -> Layout:
    return Layout(0, sub, name, "6.2.2 / 6.3.6.3 / 6.3.22", (_SE, _TID, _AMOUNT), crc_c=True)


def _management(sub: int, name: str, clause: str) -> Layout:
    return Layout(2, sub, name, clause, _TID_LAYOUT)


_ALL = (
    _credit(0, "electricity credit (0.1 kWh)"),
    _credit(1, "water credit (0.1 m³)"),
    _credit(2, "gas credit (0.1 m³)"),
    _credit(3, "time credit (0.1 min)"),
    _currency(4, "electricity currency credit"),
    _currency(5, "water currency credit"),
    _currency(6, "gas currency credit"),
    _currency(7, "time currency credit"),
    Layout(1, 0, "initiate meter test/display (2-digit manufacturer code)", "6.2.3 / 6.3.8",
           (Field("control", 24, 36), Field("manufacturer_code", 16, 8)), encrypted=False),
    Layout(1, 1, "initiate meter test/display (4-digit manufacturer code)", "6.2.3 / 6.3.8",
           (Field("control", 32, 28), Field("manufacturer_code", 16, 16)), encrypted=False),
    Layout(1, 2, "extended token read", "6.2.3 (STS extended read)",
           (Field("control", 24, 36), Field("manufacturer_code", 16, 8)), encrypted=False),
    _management(0, "set maximum power limit (W)", "6.2.4 / 6.3.9"),
    _management(1, "clear credit", "6.2.5 / 6.3.13"),
    _management(2, "set tariff rate", "6.2.6 / 6.3.11"),
    Layout(2, 3, "set 1st section decoder key", "6.2.7 / 6.3.14-6.3.19",
           (Field("kenho", 56, 4), Field("new_krn", 52, 4), Field("ro", 51, 1),
            Field("res", 50, 1), Field("new_kt", 48, 2), Field("nkho", 16, 32))),
    Layout(2, 4, "set 2nd section decoder key", "6.2.8 / 6.3.14-6.3.19",
           (Field("kenlo", 56, 4), Field("new_ti", 48, 8), Field("nklo", 16, 32))),
    _management(5, "clear tamper condition", "6.2.9 / 6.3.20"),
    _management(6, "set maximum phase power unbalance limit (W)", "6.2.10 / 6.3.10"),
    _management(7, "set water meter factor", "6.2.11 / 6.3.12"),
    Layout(2, 8, "set 3rd section decoder key (EA07: new SGC)", "6.2.12 (3-token EA07 set)",
           (Field("new_sgc", 36, 24), Field("pad", 16, 20, fixed=0)), ea="07"),
    Layout(2, 8, "set 3rd section decoder key", "6.2.12 / 6.3.16",
           (Field("sgclo", 48, 12), Field("nkmo1", 16, 32)), ea="11"),
    Layout(2, 9, "set 4th section decoder key", "6.2.13 / 6.3.17",
           (Field("sgcho", 48, 12), Field("nkmo2", 16, 32)), ea="11"),
)  # fmt: skip

#: Layouts by (class, subclass); class 2 subclass 8 maps to its EA07 form here.
LAYOUTS: dict[tuple[int, int], Layout] = {}
_BY_EA: dict[tuple[int, int, str], Layout] = {}
for _layout in _ALL:
    LAYOUTS.setdefault((_layout.token_class, _layout.subclass), _layout)
    if _layout.ea is not None:
        _BY_EA[(_layout.token_class, _layout.subclass, _layout.ea)] = _layout


def layout_for(token_class: int, subclass: int, ea: str | None = None) -> Layout:
    """The layout of a token type; ``ea`` ("07"/"11") picks between algorithm variants."""
    if ea is not None:
        variant = _BY_EA.get((token_class, subclass, ea))
        if variant is not None:
            return variant
        if (token_class, subclass) in {(k[0], k[1]) for k in _BY_EA}:
            raise UnsupportedTokenError(
                f"class {token_class} subclass {subclass} is not defined for EA{ea}"
            )
    layout = LAYOUTS.get((token_class, subclass))
    if layout is None:
        raise UnsupportedTokenError(
            f"class {token_class} subclass {subclass} is not a token type stsvend handles"
        )
    return layout
