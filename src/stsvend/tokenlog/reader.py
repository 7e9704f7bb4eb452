"""Reading the token log back: verification against the database, and export.

Export filters by period, meter, operator, terminal or key (SGC, SGC/KRN or a key check value)
and writes CSV or JSON lines.  Token digits are written only when the caller says the reader's
role may see them; otherwise the column is present and empty, so files keep one shape.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

import attrs
from attrs import frozen
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from stsvend.store.models import TokenLog
from stsvend.tokenlog.verify_db import verify_log

__all__ = ["EXPORT_COLUMNS", "LogFilter", "TextSink", "export_log", "iter_log", "verify_log"]

_BATCH = 5000

#: Columns of an export, in order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "event",
    "purpose",
    "meter",
    "token_class",
    "subclass",
    "base_date",
    "tid",
    "amount",
    "sgc",
    "krn",
    "ti",
    "kcv",
    "operator",
    "terminal",
    "request_id",
    "sale_id",
    "test",
    "chain",
    "seq",
    "ref_seq",
    "note",
    "digits",
    "mac",
)


def _streamed(stmt: Select[Any]) -> Select[Any]:
    """``stmt`` read in batches (a server-side cursor on PostgreSQL).

    The option belongs to the statement, never to the connection: set on the connection, it
    would outlive this read and send every later statement of the transaction (the
    operation-log entry) through a server-side cursor, which PostgreSQL accepts only for a query.
    """
    return stmt.execution_options(stream_results=True, yield_per=_BATCH)


class TextSink(Protocol):
    """Where an export writes: a text file, or a stream that passes it on (and digests it)."""

    def write(self, text: str, /) -> int: ...


@frozen
class LogFilter:
    """Which rows to export; every set field must match (None = any)."""

    since: datetime | None = None
    until: datetime | None = None
    meter: str | None = None
    operator: str | None = None
    terminal: str | None = None
    sgc: int | None = None
    krn: int | None = None
    kcv: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, as JSON values (times in ISO 8601): what an export of it
        records in the operation log."""
        out: dict[str, Any] = {}
        for a in attrs.fields(LogFilter):
            value = getattr(self, a.name)
            if value is not None:
                out[a.name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.since is not None:
            stmt = stmt.where(TokenLog.at >= self.since)
        if self.until is not None:
            stmt = stmt.where(TokenLog.at < self.until)
        for column, value in (
            (TokenLog.meter, self.meter),
            (TokenLog.operator, self.operator),
            (TokenLog.terminal, self.terminal),
            (TokenLog.sgc, self.sgc),
            (TokenLog.krn, self.krn),
            (TokenLog.kcv, self.kcv),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        return stmt


def iter_log(conn: Connection, where: LogFilter, *, show_digits: bool) -> Iterator[dict[str, Any]]:
    """Rows of the log as export dictionaries, oldest first."""
    stmt = where.apply(select(TokenLog).order_by(TokenLog.at, TokenLog.id))
    for row in conn.execute(_streamed(stmt)):
        out = {name: getattr(row, name) for name in EXPORT_COLUMNS if name != "mac"}
        out["at"] = row.at.isoformat()
        out["mac"] = row.mac.hex()
        if not show_digits:
            out["digits"] = None
        yield out


def _seen(
    rows: Iterator[dict[str, Any]], on_row: Callable[[dict[str, Any]], None]
) -> Iterator[dict[str, Any]]:
    for row in rows:
        on_row(row)
        yield row


def export_log(
    conn: Connection,
    where: LogFilter,
    out: TextSink,
    *,
    fmt: str,
    show_digits: bool,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Write the matching rows as ``csv`` or ``jsonl``; returns how many were written.

    ``on_row`` sees each row as it is written (a manifest counts the rows a seal covers).
    """
    rows = iter_log(conn, where, show_digits=show_digits)
    if on_row is not None:
        rows = _seen(rows, on_row)
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
            count += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count
