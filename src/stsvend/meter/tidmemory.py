"""The meter's TID memory: the "used" and "old" rules (``docs/sts.md`` §10 step 7).

The meter remembers the TIDs of the last ``depth`` TID-bearing tokens it accepted (class 0 and
class 2 except the key change sections; one memory for all of them).  A TID already remembered
is **used**; a TID below the oldest remembered one is **old**; any other TID is accepted and
remembered, the oldest one dropping out when the memory is full.

The public text only says "older than the oldest TID in memory" (``docs/sts.md`` §12).  To make that
well defined on a new meter, the memory is seeded at manufacture with the TID of the
manufacture time, so every token issued before the meter was built is old.  A rollover key
change empties the memory; until the next token is accepted nothing is old.

>>> memory = TidMemory.seeded(depth=3, tid=100)
>>> memory.check(100), memory.check(99), memory.check(101)
('used', 'old', None)
>>> memory = memory.remember(101).remember(102).remember(103)
>>> memory.tids, memory.check(100)
((101, 102, 103), 'old')
"""

from __future__ import annotations

import bisect
from typing import Literal

from attrs import field, frozen

__all__ = ["TidMemory", "TidVerdict"]

#: Why a TID is refused, or None when it may be accepted.
TidVerdict = Literal["used", "old"] | None


def _sorted_tids(values: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    return tuple(sorted(int(v) for v in values))


@frozen
class TidMemory:
    """A bounded, ascending set of remembered TIDs."""

    depth: int
    tids: tuple[int, ...] = field(default=(), converter=_sorted_tids)

    def __attrs_post_init__(self) -> None:
        if self.depth < 1:
            raise ValueError(f"the TID memory holds at least 1 TID, got depth {self.depth}")
        if len(self.tids) > self.depth:
            raise ValueError(f"{len(self.tids)} TIDs do not fit a memory of depth {self.depth}")
        if len(set(self.tids)) != len(self.tids):
            raise ValueError("the TID memory holds each TID once")

    @classmethod
    def seeded(cls, depth: int, tid: int) -> TidMemory:
        """A new meter's memory: the manufacture-time TID, as if a token had used it."""
        return cls(depth, (tid,))

    @property
    def oldest(self) -> int | None:
        return self.tids[0] if self.tids else None

    @property
    def newest(self) -> int | None:
        return self.tids[-1] if self.tids else None

    def check(self, tid: int) -> TidVerdict:
        """``"used"``, ``"old"`` or None (the TID may be accepted)."""
        i = bisect.bisect_left(self.tids, tid)
        if i < len(self.tids) and self.tids[i] == tid:
            return "used"
        if i == 0 and self.tids:
            return "old"
        return None

    def remember(self, tid: int) -> TidMemory:
        """The memory after accepting ``tid`` (the oldest TID drops out when full)."""
        if self.check(tid) is not None:
            raise ValueError(f"TID {tid} is {self.check(tid)}; it cannot be remembered")
        tids = list(self.tids)
        bisect.insort(tids, tid)
        return TidMemory(self.depth, tuple(tids[-self.depth :]))

    def cleared(self) -> TidMemory:
        """The memory after a rollover key change: empty."""
        return TidMemory(self.depth, ())
