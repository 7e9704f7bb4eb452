"""The manifest written beside an export file: what it holds, which seal covers it, its digest.

An auditor who receives ``tokens.csv`` and ``tokens.csv.manifest.json`` can check, without
stsvend: that the file is the one exported (``sha256`` of its bytes), which filter and period
it answers, how many rows it has, and which seal's MAC to give ``stsvend log verify --anchor``
to prove those rows were not changed since (``covered`` says how many rows that seal covers;
rows written after it are covered by the next).  The same digest and anchor are in the
operation log's entry of the export, which is chained under the log key.

>>> import io
>>> h = DigestWriter(io.StringIO())
>>> h.write("id,at\\n")
6
>>> h.hexdigest()[:16], h.size
('51c0d48d2082cf79', 6)
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from stsvend.services.context import Services
from stsvend.store.models import LogSealEntry
from stsvend.tokenlog.reader import TextSink
from stsvend.tokenlog.writer import SealRefused, write_seal

__all__ = [
    "MANIFEST_SUFFIX",
    "MANIFEST_VERSION",
    "Coverage",
    "DigestWriter",
    "build_manifest",
    "seal_now",
    "sealed_heads",
]

#: The manifest of ``FILE`` is ``FILE`` + this.
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_VERSION = 1


class DigestWriter:
    """A text stream that passes what it is given on and keeps its SHA-256 (of the UTF-8
    bytes, which is what an export file holds) and its size in bytes."""

    def __init__(self, out: TextSink) -> None:
        self._out = out
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._hash.update(data)
        self.size += len(data)
        return self._out.write(text)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def seal_now(svc: Services) -> None:
    """Seal now, so that the anchor a manifest names covers as many exported rows as it can.

    A newest seal that does not verify is not an export's to report (``log verify`` does):
    the manifest then names the newest seal there is, and says how many rows it covers.
    """
    with contextlib.suppress(SealRefused), svc.store.transaction() as conn:
        write_seal(conn, svc.log_key, svc.now())


def sealed_heads(conn: Connection, seal_id: int) -> dict[str, int]:
    """Per chain, the highest number a seal up to ``seal_id`` recorded (rows up to it are
    covered by that seal's anchor)."""
    rows = conn.execute(
        select(LogSealEntry.chain, func.max(LogSealEntry.seq))
        .where(LogSealEntry.seal_id <= seal_id)
        .group_by(LogSealEntry.chain)
    )
    return {chain: int(seq) for chain, seq in rows}


class Coverage:
    """Counts, row by row, the exported rows the anchor's seals cover."""

    def __init__(self, heads: Mapping[str, int]) -> None:
        self._heads = heads
        self.covered = 0

    def __call__(self, row: Mapping[str, Any]) -> None:
        head = self._heads.get(row["chain"])
        if head is not None and row["seq"] <= head:
            self.covered += 1


def build_manifest(file_name: str, export: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest of an export (the answer of :func:`stsvend.services.logs.export` with a
    manifest asked for), for the file named ``file_name``.

    >>> m = build_manifest("t.csv", {"rows": 2, "digits": False, "format": "csv",
    ...     "filter": {"since": "2026-01-01T00:00:00+00:00"}, "sha256": "ab" * 32, "bytes": 9,
    ...     "anchor": None, "covered": 0, "made_at": "2026-02-01T00:00:00+00:00",
    ...     "operator": "ann", "terminal": "T1"})
    >>> m["period"], m["file"], m["rows"]
    ({'since': '2026-01-01T00:00:00+00:00', 'until': None}, 't.csv', 2)
    """
    where = dict(export["filter"])
    return {
        "manifest": MANIFEST_VERSION,
        "kind": export.get("kind", "token-log"),
        "file": file_name,
        "format": export["format"],
        "bytes": export["bytes"],
        "sha256": export["sha256"],
        "rows": export["rows"],
        "digits": export.get("digits", False),
        "filter": where,
        "period": {"since": where.get("since"), "until": where.get("until")},
        "anchor": export["anchor"],
        "rows_covered_by_anchor": export["covered"],
        "made_at": export["made_at"],
        "operator": export["operator"],
        "terminal": export["terminal"],
    }

