"""The STA (EA07) substitution and permutation tables, with their provenance.

IEC 62055-41 clause 6.5.2 / Annex (EA07 "Standard Transfer Algorithm").  The standard says the
STS Association supplies the actual table values to licensees (clause 10.2.8/10.2.9); the
*production* set below is the one published openly by two independent implementations and
validated bit-exactly by three independent vector sets (``docs/sts.md`` §6.1).  The *sample* set
is the one printed in the public literature for the standard's worked example; it is not used by
real meters.

A utility that holds the table set issued to it by the STS Association reads it (its keystore or
configuration does: this package reads no files) and parses it with :func:`parse_sta_tables`
(TOML or JSON text with ``s1``, ``s2`` and ``p``, or a mapping).  The set travels with the key:
``DecoderKey(value, ea, tables=...)``, ``derive_decoder_key(..., tables=...)`` or
``Sta(key, tables=...)``; there is no process-wide default to change.  Every set is checked to
be two permutations of 0..15 and one of 0..63 before use.

>>> PRODUCTION.s1[0], PRODUCTION.p[0], SAMPLE.s1[0]
(14, 55, 12)
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from stsvend.errors import KeyMaterialError

__all__ = ["PRODUCTION", "SAMPLE", "StaTables", "parse_sta_tables"]


@frozen
class StaTables:
    """One STA table set: S1 (key bit 0), S2 (key bit 1), and P (input bit i → output P[i])."""

    name: str
    s1: tuple[int, ...]
    s2: tuple[int, ...]
    p: tuple[int, ...]
    #: The cipher's look-up tables, built from this set on first use (:mod:`stsvend.sts.sta`).
    compiled: Any = field(default=None, init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if sorted(self.s1) != list(range(16)) or sorted(self.s2) != list(range(16)):
            raise KeyMaterialError(f"STA tables {self.name!r}: S1 and S2 must permute 0..15")
        if sorted(self.p) != list(range(64)):
            raise KeyMaterialError(f"STA tables {self.name!r}: P must permute 0..63")


#: Production tables (``docs/sts.md`` §6.1).
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

#: The standard's sample tables, for its worked example only (``docs/sts.md`` §6.1).
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


def parse_sta_tables(
    data: bytes | str | Mapping[str, Any], *, name: str = "issued", json_text: bool = False
) -> StaTables:
    """A table set issued by the STS Association, from TOML text, JSON text or a mapping.

    The data holds three lists of integers, ``s1``, ``s2`` and ``p`` (same conventions as
    :data:`PRODUCTION`), and optionally a ``name`` (else ``name``).

    >>> parse_sta_tables('name = "sample"\\ns1 = %s\\ns2 = %s\\np = %s' % (
    ...     list(SAMPLE.s1), list(SAMPLE.s2), list(SAMPLE.p))) == SAMPLE
    True
    """
    try:
        if isinstance(data, Mapping):
            values: Any = data
        else:
            text = data.decode() if isinstance(data, bytes) else data
            values = json.loads(text) if json_text else tomllib.loads(text)
        return StaTables(
            name=str(values.get("name", name)),
            s1=tuple(int(v) for v in values["s1"]),
            s2=tuple(int(v) for v in values["s2"]),
            p=tuple(int(v) for v in values["p"]),
        )
    except KeyMaterialError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyMaterialError(f"cannot read the STA tables: {exc}") from None
