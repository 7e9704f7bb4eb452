"""Token result indications of an STS meter (``docs/sts.md`` §10).

The numbers are those of the Conlog "STS token result" register, the only public numbering;
the names match the error classes other decoders use.  Every entry into the meter model gives
exactly one :class:`Result`.

>>> ResultCode.USED.label, int(ResultCode.USED)
('Used', 10)
>>> Result(ResultCode.CRC, "the token's CRC does not match").display
'Err 13 CRC error'
>>> Result(ResultCode.ACCEPT, "credit added").accepted
True
"""

from __future__ import annotations

import enum
from typing import Any

from attrs import field, frozen

__all__ = ["ACCEPTED_CODES", "Result", "ResultCode"]


class ResultCode(enum.IntEnum):
    """The result of entering a token (Conlog register numbers)."""

    ACCEPT = 1
    KCT1_ENTERED = 2  #: a key change set's 1st section is staged, the rest is awaited
    KCT2_ENTERED = 3  #: a later section (2nd, 3rd or 4th) is staged, the set is incomplete
    OVERFLOW = 4  #: the register would overflow: no credit, token not used up
    KEY_TYPE = 5  #: the key change would make a key-type transition the meter refuses
    FORMAT = 6  #: not 20 digits below 2**66, or reserved bits set
    RANGE = 7  #: a field value the meter cannot take
    FUNCTION = 8  #: class, subclass or register not supported by this meter
    OLD = 9  #: TID older than the oldest TID in memory
    USED = 10  #: TID already in memory
    KEY_EXPIRED = 11  #: TID past the key expiry number (KEN)
    DDTK = 12  #: credit token on a meter still on its default (or initialisation) key
    CRC = 13  #: CRC mismatch: mistyped, or made for another meter or key
    MFR_CODE = 14  #: class 1 token for another manufacturer
    LOCKOUT = 15  #: keypad lockout after repeated wrong entries

    @property
    def label(self) -> str:
        """The short text a meter display shows."""
        return _LABELS[self]

    @property
    def accepted(self) -> bool:
        """True for the codes that mean "the meter took the token"."""
        return self in ACCEPTED_CODES


_LABELS: dict[ResultCode, str] = {
    ResultCode.ACCEPT: "Accept",
    ResultCode.KCT1_ENTERED: "1st KCT entered",
    ResultCode.KCT2_ENTERED: "2nd KCT entered",
    ResultCode.OVERFLOW: "Overflow error",
    ResultCode.KEY_TYPE: "Key type error",
    ResultCode.FORMAT: "Format error",
    ResultCode.RANGE: "Range error",
    ResultCode.FUNCTION: "Function error",
    ResultCode.OLD: "Old",
    ResultCode.USED: "Used",
    ResultCode.KEY_EXPIRED: "Key expired",
    ResultCode.DDTK: "DDTK error",
    ResultCode.CRC: "CRC error",
    ResultCode.MFR_CODE: "Mfr code error",
    ResultCode.LOCKOUT: "Lockout",
}

#: Codes after which the token has been taken (credit added, setting stored, section staged).
ACCEPTED_CODES = frozenset({ResultCode.ACCEPT, ResultCode.KCT1_ENTERED, ResultCode.KCT2_ENTERED})


@frozen
class Result:
    """What the meter answered to one entry.

    ``effect`` holds plain JSON values describing what changed (credit added, setting stored,
    sections staged, tests run); it is empty for a refused token.
    """

    code: ResultCode
    message: str
    token_class: int | None = None
    subclass: int | None = None
    tid: int | None = None
    effect: dict[str, Any] = field(factory=dict)

    @property
    def accepted(self) -> bool:
        return self.code.accepted

    @property
    def display(self) -> str:
        """One line as a meter display would show it (errors with their register number)."""
        if self.accepted:
            return self.code.label
        return f"Err {int(self.code)} {self.code.label}"

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON values (for script mode, the serial protocol and snapshots)."""
        return {
            "code": int(self.code),
            "name": self.code.name.lower(),
            "label": self.code.label,
            "accepted": self.accepted,
            "message": self.message,
            "token_class": self.token_class,
            "subclass": self.subclass,
            "tid": self.tid,
            "effect": dict(self.effect),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Inverse of :meth:`as_dict` (``name``, ``label`` and ``accepted`` are derived)."""
        return cls(
            ResultCode(int(data["code"])),
            str(data["message"]),
            data.get("token_class"),
            data.get("subclass"),
            data.get("tid"),
            dict(data.get("effect") or {}),
        )

    def __str__(self) -> str:
        return f"{self.display}: {self.message}"
