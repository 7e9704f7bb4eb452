"""The STA (EA07) substitution and permutation tables, with their provenance.

IEC 62055-41 clause 6.5.2 / Annex (EA07 "Standard Transfer Algorithm").  The standard says the
STS Association supplies the actual table values to licensees (clause 10.2.8/10.2.9); the
*production* set below is the one published openly by two independent implementations
(NectarAPI/tokens-service ``domain/table``, and the public ``kf_sts_token.py``) and validated
bit-exactly by three independent vector sets (NectarAPI CTSA, the C# Edition-2 set, KF's
simulator vectors) — see ``sts-reference.md`` §6.1.  The *sample* set is the one printed in the
public literature for the standard's worked example; it is not used by real meters.

A utility that holds the table set issued to it by the STS Association loads it with
:func:`load_sta_tables` (a TOML or JSON file with ``s1``, ``s2`` and ``p``) and passes the result
to :class:`stsvend.sts.sta.Sta` (``Sta(key, tables=...)``), or installs it as the default with
:func:`stsvend.sts.sta.set_default_tables`.  Every set is checked to be two permutations of
0..15 and one of 0..63 before use.

>>> PRODUCTION.s1[0], PRODUCTION.p[0], SAMPLE.s1[0]
(14, 55, 12)
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from attrs import frozen

from stsvend.errors import KeyMaterialError

__all__ = ["PRODUCTION", "SAMPLE", "StaTables", "load_sta_tables"]


@frozen
class StaTables:
    """One STA table set: S1 (key bit 0), S2 (key bit 1), and P (input bit i → output P[i])."""

    name: str
    s1: tuple[int, ...]
    s2: tuple[int, ...]
    p: tuple[int, ...]

    def __attrs_post_init__(self) -> None:
        if sorted(self.s1) != list(range(16)) or sorted(self.s2) != list(range(16)):
            raise KeyMaterialError(f"STA tables {self.name!r}: S1 and S2 must permute 0..15")
        if sorted(self.p) != list(range(64)):
            raise KeyMaterialError(f"STA tables {self.name!r}: P must permute 0..63")


#: Production tables (``sts-reference.md`` §6.1, [C2][V]).
PRODUCTION = StaTables(
    name="production",
    s1=(14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11),
    s2=(12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14),
    p=(
        55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50,
        6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4, 32, 20, 63, 25,
        51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5,
        40, 60, 39, 11, 15, 17, 1, 0, 57, 34, 59, 8, 47, 14, 45, 26,
    ),
)  # fmt: skip

#: The standard's sample tables, for its worked example only (``sts-reference.md`` §6.1).
SAMPLE = StaTables(
    name="sample",
    s1=(12, 10, 8, 4, 3, 15, 0, 2, 14, 1, 5, 13, 6, 9, 7, 11),
    s2=(6, 9, 7, 4, 3, 10, 12, 14, 2, 13, 1, 15, 0, 11, 8, 5),
    p=(
        29, 27, 34, 9, 16, 62, 55, 2, 40, 49, 38, 25, 33, 61, 30, 23,
        1, 41, 21, 57, 42, 15, 5, 58, 19, 53, 22, 17, 48, 28, 24, 39,
        3, 60, 36, 14, 11, 52, 54, 12, 31, 51, 10, 26, 0, 45, 37, 43,
        44, 6, 59, 4, 7, 35, 56, 50, 13, 18, 32, 47, 46, 63, 20, 8,
    ),
)  # fmt: skip


def load_sta_tables(path: str | Path) -> StaTables:
    """Load a table set issued by the STS Association from a TOML or JSON file.

    The file holds three lists of integers, ``s1``, ``s2`` and ``p`` (same conventions as
    :data:`PRODUCTION`), and optionally a ``name``.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode())
        return StaTables(
            name=str(data.get("name", path.stem)),
            s1=tuple(int(v) for v in data["s1"]),
            s2=tuple(int(v) for v in data["s2"]),
            p=tuple(int(v) for v in data["p"]),
        )
    except KeyMaterialError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyMaterialError(f"cannot load STA tables from {path}: {exc}") from None
