"""Reading the token log back: verification against the database, and export.

Export filters by period, meter, operator, terminal or key (SGC, SGC/KRN or a key check value)
and writes CSV or JSON lines.  Token digits are written only when the caller says the reader's
role may see them; otherwise the column is present and empty, so files keep one shape.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from attrs import frozen
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from stsvend.store.models import TokenLog
from stsvend.tokenlog.verify_db import verify_log

__all__ = ["EXPORT_COLUMNS", "LogFilter", "export_log", "iter_log", "verify_log"]

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
    # Streamed by this statement's options only: options set on the connection would turn the
    # next statement of the transaction (the operation-log INSERT) into a server-side cursor.
    result = conn.execute(stmt, execution_options={"stream_results": True, "yield_per": _BATCH})
    for row in result:
        out = {name: getattr(row, name) for name in EXPORT_COLUMNS if name != "mac"}
        out["at"] = row.at.isoformat()
        out["mac"] = row.mac.hex()
        if not show_digits:
            out["digits"] = None
        yield out


def export_log(
    conn: Connection, where: LogFilter, out: IO[str], *, fmt: str, show_digits: bool
) -> int:
    """Write the matching rows as ``csv`` or ``jsonl``; returns how many were written."""
    rows = iter_log(conn, where, show_digits=show_digits)
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
