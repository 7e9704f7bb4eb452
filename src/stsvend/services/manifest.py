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

What a manifest states is typed (:class:`Manifest`, :class:`ExportFacts`, :class:`Anchor`); the
file holds :func:`~stsvend.services.results.as_doc` of it.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import attrs
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from stsvend.services.context import Services
from stsvend.store.models import LogSealEntry
from stsvend.tokenlog.reader import TextSink
from stsvend.tokenlog.writer import SealRefused, SealResult, write_seal

__all__ = [
    "MANIFEST_SUFFIX",
    "MANIFEST_VERSION",
    "Anchor",
    "Coverage",
    "DigestWriter",
    "ExportFacts",
    "FilterDoc",
    "Manifest",
    "Period",
    "build_manifest",
    "seal_now",
    "sealed_heads",
]

#: The manifest of ``FILE`` is ``FILE`` + this.
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_VERSION = 1

#: A filter as an export states it: its set fields only, times in ISO 8601, actions a list
#: (what ``LogFilter.as_dict()`` and ``OpFilter.as_dict()`` give).
FilterDoc: TypeAlias = Mapping[str, str | int | Sequence[str]]


@attrs.frozen
class Anchor:
    """A seal as an anchor: what to keep outside the database and give ``log verify --anchor``.

    >>> from datetime import UTC, datetime
    >>> seal = SealResult(7, datetime(2026, 3, 1, tzinfo=UTC), 2, bytes(32))
    >>> Anchor.of(seal).at
    '2026-03-01T00:00:00+00:00'
    """

    #: The seal's number (its id in the seal table).
    seal: int
    #: The seal's MAC under the log key, 64 hexadecimal digits.
    mac: str
    #: When the seal was written (ISO 8601, UTC).
    at: str

    @classmethod
    def of(cls, seal: SealResult) -> Anchor:
        return cls(seal=seal.seal_id, mac=seal.mac.hex(), at=seal.at.isoformat())


@attrs.frozen
class ExportFacts:
    """What an export with a manifest states about what it wrote; each log's export adds its
    own fields (:class:`~stsvend.services.logs.ManifestedLogExport`,
    :class:`~stsvend.services.operations.OperationsExport`)."""

    #: The rows (token log) or entries (operation log) written.
    rows: int
    #: The file format: ``csv`` or ``jsonl``.
    format: str
    #: The filter the rows answer.
    filter: FilterDoc
    #: SHA-256 of the bytes written (UTF-8), 64 hexadecimal digits.
    sha256: str
    #: The size of what was written, in bytes.
    bytes: int
    #: The newest seal when the rows were read (None before the first seal).
    anchor: Anchor | None
    #: How many of the rows written that anchor covers (the rest, the next seal covers).
    covered: int
    #: When the export was made (ISO 8601, UTC).
    made_at: str
    #: The operator who made it.
    operator: str
    #: The terminal it was made at.
    terminal: str

    def manifest_kind(self) -> str:
        """Which log the rows are of (the manifest's ``kind``)."""
        return "token-log"

    def manifest_digits(self) -> bool:
        """Whether the rows hold token digits (the manifest's ``digits``)."""
        return False


@attrs.frozen
class Period:
    """The period an export covers: its filter's bounds."""

    #: From this time on (ISO 8601); None: from the start.
    since: str | None
    #: Before this time (ISO 8601); None: up to the export.
    until: str | None


@attrs.frozen
class Manifest:
    """The manifest of an export file (the file ``FILE.manifest.json`` holds it as JSON)."""

    #: The manifest format's version (:data:`MANIFEST_VERSION`).
    manifest: int
    #: Which log the file holds: ``token-log`` or ``operation-log``.
    kind: str
    #: The export file's name (without its directory).
    file: str
    #: The file format: ``csv`` or ``jsonl``.
    format: str
    #: The file's size in bytes.
    bytes: int
    #: SHA-256 of the file's bytes, 64 hexadecimal digits.
    sha256: str
    #: The rows (entries) the file holds.
    rows: int
    #: Whether the file holds token digits (else that column is empty).
    digits: bool
    #: The filter the rows answer.
    filter: FilterDoc
    #: The filter's time bounds.
    period: Period
    #: The newest seal when the rows were read: its MAC is what ``log verify --anchor`` takes.
    anchor: Anchor | None
    #: How many of the file's rows that anchor covers.
    rows_covered_by_anchor: int
    #: When the export was made (ISO 8601, UTC).
    made_at: str
    #: The operator who made it.
    operator: str
    #: The terminal it was made at.
    terminal: str


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


def _bound(where: FilterDoc, name: str) -> str | None:
    value = where.get(name)
    return None if value is None else str(value)


def build_manifest(file_name: str, export: ExportFacts) -> Manifest:
    """The manifest of an export (the answer of :func:`stsvend.services.logs.export` with a
    manifest asked for, or of :func:`stsvend.services.operations.export_operations`), for the
    file named ``file_name``.

    >>> facts = ExportFacts(rows=2, format="csv", filter={"since": "2026-01-01T00:00:00+00:00"},
    ...     sha256="ab" * 32, bytes=9, anchor=None, covered=0,
    ...     made_at="2026-02-01T00:00:00+00:00", operator="ann", terminal="T1")
    >>> m = build_manifest("t.csv", facts)
    >>> m.period, m.file, m.rows, m.kind
    (Period(since='2026-01-01T00:00:00+00:00', until=None), 't.csv', 2, 'token-log')
    """
    where = dict(export.filter)
    return Manifest(
        manifest=MANIFEST_VERSION,
        kind=export.manifest_kind(),
        file=file_name,
        format=export.format,
        bytes=export.bytes,
        sha256=export.sha256,
        rows=export.rows,
        digits=export.manifest_digits(),
        filter=where,
        period=Period(since=_bound(where, "since"), until=_bound(where, "until")),
        anchor=export.anchor,
        rows_covered_by_anchor=export.covered,
        made_at=export.made_at,
        operator=export.operator,
        terminal=export.terminal,
    )
