"""The operation log under the log key: one chain per operator, and the protection boundary.

An entry written by a process that holds the log key is chained at once (its operator's chain
head is locked for the rest of the transaction: only that operator's own operations wait).
An entry written without the log key (commands that do not open the keystore) is *pending*:
the next seal chains it first, in id order, so it is protected from then on.

The boundary (setting ``records_protected_from``) names the last sale and operation-log id
written before protection began (migration 0005); the first process that opens the log key
authenticates it, so that raising it to hide later rows breaks its MAC.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from attrs import frozen
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.models import OperationLog, SaleRecord, Setting
from stsvend.store.sql import upsert
from stsvend.tokenlog.chain import LogKey
from stsvend.tokenlog.heads import MOVE_HEADS, lock_heads
from stsvend.tokenlog.records import OP_FIELDS, op_chain, op_mac, statement_mac

__all__ = [
    "BOUNDARY_SETTING",
    "Boundary",
    "adopt_pending",
    "append_operation",
    "authenticate_boundary",
    "read_boundary",
]

#: The setting that states from which ids sales and operation-log entries are protected.
BOUNDARY_SETTING = "records_protected_from"

_INSERT = insert(OperationLog)
_CHAIN = (
    update(OperationLog)
    .where(OperationLog.id == bindparam("row_id"))
    .values(chain=bindparam("c"), seq=bindparam("s"), prev_mac=bindparam("p"), mac=bindparam("m"))
)


def _link(conn: Connection, key: LogKey, values: Mapping[str, Any]) -> dict[str, Any]:
    chain = op_chain(values["operator"])
    seq, prev_mac = lock_heads(conn, [chain])[chain]
    row = {**values, "chain": chain, "seq": seq + 1}
    row["prev_mac"], row["mac"] = prev_mac, op_mac(key, row, prev_mac)
    conn.execute(MOVE_HEADS, {"c": chain, "s": seq + 1, "m": row["mac"]})
    return row


def append_operation(conn: Connection, key: LogKey | None, values: Mapping[str, Any]) -> None:
    """Insert an operation-log entry: chained under ``key``, or pending without one."""
    if key is None:
        conn.execute(_INSERT, dict(values))
    else:
        conn.execute(_INSERT, _link(conn, key, values))


@frozen
class Boundary:
    """Sales and operation-log entries with ids up to these came before protection."""

    sale: int
    operation: int
    #: The MAC of the statement (None: written by the migration, not yet authenticated).
    mac: bytes | None

    def body(self) -> dict[str, int]:
        return {"sale": self.sale, "operation": self.operation}


def read_boundary(conn: Connection) -> Boundary | None:
    """The stored boundary (None: none stored, so every row must be protected)."""
    text = conn.execute(select(Setting.value).where(Setting.name == BOUNDARY_SETTING)).scalar()
    if text is None:
        return None
    try:
        data = json.loads(text)
        mac = data.get("mac")
        return Boundary(int(data["sale"]), int(data["operation"]),
                        None if mac is None else bytes.fromhex(mac))  # fmt: skip
    except (ValueError, KeyError, TypeError, AttributeError):
        return Boundary(-1, -1, b"")  # unreadable: verification reports it


def authenticate_boundary(conn: Connection, key: LogKey) -> None:
    """Give the migration's boundary its MAC (once: at the first open of the log key or the
    first seal), unless protected rows already lie at or below it (then it was raised, and
    ``log verify`` reports it)."""
    boundary = read_boundary(conn)
    if boundary is None or boundary.mac is not None or boundary.sale < 0:
        return
    lowest_sale = conn.execute(select(func.min(SaleRecord.sale_id))).scalar()
    lowest_op = conn.execute(
        select(func.min(OperationLog.id)).where(OperationLog.chain.is_not(None))
    ).scalar()
    if (lowest_sale is not None and lowest_sale <= boundary.sale) or (
        lowest_op is not None and lowest_op <= boundary.operation
    ):
        return
    mac = statement_mac(key, BOUNDARY_SETTING, boundary.body())
    value = json.dumps({**boundary.body(), "mac": mac.hex()})
    conn.execute(
        upsert(conn.dialect, table_of(Setting), ["name"], ["value"]),
        {"name": BOUNDARY_SETTING, "value": value},
    )


def adopt_pending(conn: Connection, key: LogKey) -> int:
    """Chain the entries written without the log key since the boundary; returns how many."""
    boundary = read_boundary(conn)
    after = 0 if boundary is None else max(boundary.operation, 0)
    pending = conn.execute(
        select(OperationLog.id, *(getattr(OperationLog, f) for f in OP_FIELDS))
        .where(OperationLog.chain.is_(None), OperationLog.id > after)
        .order_by(OperationLog.id)
    ).all()
    for row in pending:
        linked = _link(conn, key, row._asdict())
        conn.execute(
            _CHAIN,
            {"row_id": row.id, "c": linked["chain"], "s": linked["seq"],
             "p": linked["prev_mac"], "m": linked["mac"]},
        )  # fmt: skip
    return len(pending)
