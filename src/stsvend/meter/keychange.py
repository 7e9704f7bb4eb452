"""Key change: staging the sections of a key change token set (``docs/sts.md`` §9).

Every section is a class 2 token encrypted under the meter's *current* key and carries no TID.
Which token carries which bits of the new key, KEN and SGC is the table
:data:`stsvend.sts.layouts.KEY_CHANGE_SECTIONS`; the first section also carries the new KRN, KT
and RO (rollover) and, for EA07, the flag that a third token with the new SGC follows; the second
carries the new TI.

Sections may be entered in any order.  The meter keeps them for a *window* (10 minutes on common
meters) counted from the first staged section; a section arriving after the window starts a new
set and the stale sections are forgotten.  Entering a section again replaces the staged one.
When every needed section is there the new key is assembled and installed with its KRN, KT, TI,
KEN and (3-/4-token sets) SGC; RO = 1 moves the meter to the next base date.

>>> from datetime import datetime, timezone
>>> from stsvend.sts import EA, KeyData
>>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
>>> first = {"kenho": 15, "new_krn": 2, "ro": 0, "res": 0, "new_kt": 2, "nkho": 0x11223344}
>>> staged = stage(None, 1, first, t0, window_seconds=600)
>>> staged.missing(EA.STA)
(2,)
>>> staged = stage(staged, 2, {"kenlo": 15, "new_ti": 1, "nklo": 0x55667788}, t0, 600)
>>> new = assemble(EA.STA, staged, KeyData(sgc=123456, ti=1, krn=1, key_type=2))
>>> new.decoder_key.hex(), new.key_data.krn, new.rollover
('1122334455667788', 2, False)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from attrs import field, frozen

from stsvend.sts import EA, DecoderKey, KeyData
from stsvend.sts.layouts import (
    KEY_CHANGE_SUBCLASSES,
    KeySection,
    KeySource,
    key_sections,
    section_of,
)
from stsvend.sts.sta_tables import PRODUCTION, StaTables

__all__ = ["SECTION_OF_SUBCLASS", "NewKey", "StagedKeyChange", "assemble", "stage"]

#: Class 2 subclass → key change section number (read from the layout table).
SECTION_OF_SUBCLASS: dict[int, int] = {s: section_of(s) for s in sorted(KEY_CHANGE_SUBCLASSES)}


def _sections(value: dict[int, dict[str, int]]) -> dict[int, dict[str, int]]:
    return {int(k): dict(v) for k, v in sorted(value.items())}


@frozen
class StagedKeyChange:
    """Sections of one key change set entered so far, and when the set was started."""

    started: datetime
    sections: dict[int, dict[str, int]] = field(converter=_sections)

    def deadline(self, window_seconds: int) -> datetime:
        return self.started + timedelta(seconds=window_seconds)

    def expired(self, now: datetime, window_seconds: int) -> bool:
        return now > self.deadline(window_seconds)

    def needed(self, ea: EA) -> tuple[int, ...]:
        """The sections this set needs (EA07 learns about a 3rd from the 1st section)."""
        return tuple(s.number for s in self._sections(ea))

    def _sections(self, ea: EA) -> tuple[KeySection, ...]:
        first = self.sections.get(1)
        optional = first is not None and bool(first.get("res"))
        return key_sections(ea.value, with_optional=optional)

    def missing(self, ea: EA) -> tuple[int, ...]:
        return tuple(s for s in self.needed(ea) if s not in self.sections)

    def complete(self, ea: EA) -> bool:
        return not self.missing(ea)

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": self.started.isoformat(),
            "sections": {str(k): v for k, v in self.sections.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StagedKeyChange:
        sections = {
            int(k): {str(f): int(x) for f, x in v.items()} for k, v in data["sections"].items()
        }
        return cls(datetime.fromisoformat(data["started"]), sections)


def stage(
    staged: StagedKeyChange | None,
    section: int,
    fields: dict[str, int],
    now: datetime,
    window_seconds: int,
) -> StagedKeyChange:
    """Add a section; a set whose window has passed is forgotten and a new one starts."""
    if staged is None or staged.expired(now, window_seconds):
        return StagedKeyChange(now, {section: fields})
    return StagedKeyChange(staged.started, {**staged.sections, section: fields})


@frozen(repr=False)
class NewKey:
    """The key a complete set installs."""

    decoder_key: DecoderKey
    key_data: KeyData
    rollover: bool

    def __repr__(self) -> str:  # never show the key
        return f"NewKey(key_data={self.key_data!r}, rollover={self.rollover})"


def assemble(
    ea: EA, staged: StagedKeyChange, current: KeyData, tables: StaTables = PRODUCTION
) -> NewKey:
    """Build the new key and key data of a complete set.

    Raises the core's :class:`~stsvend.errors.KeyMaterialError` (KRN 0, TI above 99, SGC above
    999 999) or :class:`~stsvend.errors.TidError` (rollover past the 2035 base date) for values
    the meter cannot take: the decoder shows a range error for them.
    """
    s = staged.sections
    first, second = s[1], s[2]
    values = dict.fromkeys(KeySource, 0)
    carried: set[KeySource] = set()
    for section in staged._sections(ea):
        for part in section.parts:
            values[part.source] |= s[section.number][part.field] << part.shift
            carried.add(part.source)
    raw = values[KeySource.KEY].to_bytes(ea.key_bytes, "big")
    sgc = values[KeySource.SGC] if KeySource.SGC in carried else current.sgc
    rollover = bool(first["ro"])
    data = KeyData(
        sgc=sgc,
        ti=second["new_ti"],
        krn=first["new_krn"],
        key_type=first["new_kt"],
        ea=current.ea,
        base_date=current.base_date.next if rollover else current.base_date,
        ken=values[KeySource.KEN],
    )
    # The new key encrypts with the meter's table set, like the key it replaces.
    return NewKey(DecoderKey(raw, ea, tables=tables), data, rollover)
