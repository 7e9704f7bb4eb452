"""Reading the operation log back for auditors: filter, list, export (CSV / JSON lines).

The operation log records who did what, where, when and with what outcome: logins (and failed
ones), refusals of permission, shifts, exports, verifications, reprints, administration.  Its
entries are chained per operator (``op:<username>``, ``docs/token-log.md``); an entry written
without the log key is *pending* (``chain`` empty) until the next seal chains it.

Filters: a period, an operator, a terminal, an outcome, and actions, where an action matches
itself and every action below it (``log`` matches ``log.export`` and ``log.verify``).

>>> OpFilter(actions=("log", "login")).as_dict()
{'actions': ['log', 'login']}
>>> OpFilter(actions=("log",)).matches_action("log.export"), OpFilter().matches_action("x")
(True, True)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import attrs
from attrs import frozen
from sqlalchemy import Select, or_, select
from sqlalchemy.engine import Connection

from stsvend.store.models import OperationLog
from stsvend.tokenlog.reader import TextSink

__all__ = ["OP_COLUMNS", "OpFilter", "count_operations", "iter_operations", "write_operations"]

#: Columns of an operation-log export, in order (``detail`` is a JSON object; in CSV its text).
OP_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "operator",
    "terminal",
    "action",
    "outcome",
    "target",
    "detail",
    "chain",
    "seq",
    "mac",
)


@frozen
class OpFilter:
    """Which entries to read; every set field must match (None or empty = any)."""

    since: datetime | None = None
    until: datetime | None = None
    operator: str | None = None
    terminal: str | None = None
    outcome: str | None = None
    actions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set, as JSON values (times in ISO 8601)."""
        out: dict[str, Any] = {}
        for a in attrs.fields(OpFilter):
            value = getattr(self, a.name)
            if value is None or value == ():
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            out[a.name] = list(value) if isinstance(value, tuple) else value
        return out

    def matches_action(self, action: str) -> bool:
        """True if ``action`` is one of the actions asked for, or below one."""
        return not self.actions or any(
            action == name or action.startswith(name + ".") for name in self.actions
        )

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.since is not None:
            stmt = stmt.where(OperationLog.at >= self.since)
        if self.until is not None:
            stmt = stmt.where(OperationLog.at < self.until)
        for column, value in (
            (OperationLog.operator, self.operator),
            (OperationLog.terminal, self.terminal),
            (OperationLog.outcome, self.outcome),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if self.actions:
            stmt = stmt.where(
                or_(
                    *(
                        or_(OperationLog.action == name, OperationLog.action.startswith(name + "."))
                        for name in self.actions
                    )
                )
            )
        return stmt


def _seen(
    rows: Iterator[dict[str, Any]], on_row: Callable[[dict[str, Any]], None]
) -> Iterator[dict[str, Any]]:
    for row in rows:
        on_row(row)
        yield row


def _entry(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "operator": row.operator,
        "terminal": row.terminal,
        "action": row.action,
        "outcome": row.outcome,
        "target": row.target,
        "detail": row.detail,
        "chain": row.chain,
        "seq": row.seq,
        "mac": None if row.mac is None else row.mac.hex(),
    }


def count_operations(conn: Connection, where: OpFilter) -> int:
    """How many entries ``where`` selects."""
    from sqlalchemy import func

    stmt = where.apply(select(func.count()).select_from(OperationLog))
    return int(conn.execute(stmt).scalar_one())


def iter_operations(
    conn: Connection, where: OpFilter, *, newest: int | None = None
) -> Iterator[dict[str, Any]]:
    """The selected entries, oldest first; with ``newest``, only the newest that many."""
    if newest is None:
        stmt = where.apply(select(OperationLog).order_by(OperationLog.id))
        yield from (_entry(r) for r in conn.execute(stmt.execution_options(yield_per=5000)))
        return
    stmt = where.apply(select(OperationLog).order_by(OperationLog.id.desc()).limit(newest))
    yield from reversed([_entry(r) for r in conn.execute(stmt)])


def write_operations(
    conn: Connection,
    where: OpFilter,
    out: TextSink,
    *,
    fmt: str,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Write the selected entries as ``csv`` or ``jsonl``; returns how many were written.

    ``on_row`` sees each entry before it is written (a manifest counts what a seal covers).
    """
    count = 0
    rows = iter_operations(conn, where)
    if on_row is not None:
        rows = _seen(rows, on_row)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(OP_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            row["detail"] = json.dumps(row["detail"], sort_keys=True, separators=(",", ":"))
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, separators=(",", ":")) + "\n")
            count += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return count
