"""Verifying the log against the database: every chain (token rows, sale records, operation
log), every seal, every recorded head, every sale and ledger line, and an external anchor.

Large tables are streamed (``stream_results`` on the statement only, never on the connection,
so the operation-log entry written afterwards in the same transaction is an ordinary INSERT).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from attrs import frozen
from sqlalchemy import Select, cast, null, select, union_all
from sqlalchemy.engine import Connection, Result

from stsvend.store.models import (
    LedgerEntry,
    LogHead,
    LogSeal,
    LogSealEntry,
    OperationLog,
    Sale,
    SaleRecord,
    TokenLog,
)
from stsvend.tokenlog.audit import (
    REANCHOR_ACTION,
    Reanchor,
    RecordRow,
    check_anchor,
    check_boundary,
    check_sale,
    index_records,
)
from stsvend.tokenlog.chain import FIELDS, LogEntry, LogKey, SealHead
from stsvend.tokenlog.oplog import read_boundary
from stsvend.tokenlog.records import (
    LEDGER_FIELDS,
    OP_FIELDS,
    SALE_EVENT,
    SALE_FIELDS,
    SALE_POINT_FIELDS,
    op_mac,
)
from stsvend.tokenlog.verify import (
    Finding,
    Link,
    StoredRow,
    StoredSeal,
    token_links,
    verify_links,
    verify_sealed_heads,
    verify_seals,
)

__all__ = ["AuditReport", "verify_log"]

_BATCH = 5000
_STREAM = {"stream_results": True, "yield_per": _BATCH}


def _chained_rows() -> Select[Any]:
    """Token rows and sale records, merged into their chains by the database's own order."""
    names = ["id", "prev_mac", "mac", *FIELDS]
    record_columns = {c.name for c in SaleRecord.__table__.columns}

    def column(model: type[Any], name: str) -> Any:
        if name in record_columns if model is SaleRecord else name != "digest":
            return getattr(model, name).label(name)
        kind = SaleRecord.digest.type if name == "digest" else getattr(TokenLog, name).type
        return cast(null(), kind).label(name)

    merged = union_all(
        select(*(column(TokenLog, n) for n in names)),
        select(*(column(SaleRecord, n) for n in names)),
    ).subquery()
    return select(merged).order_by(merged.c.chain, merged.c.seq, merged.c.id)


_CHAINED = _chained_rows()
_OP_COLUMNS = [OperationLog.id, OperationLog.prev_mac, OperationLog.mac,
               *(getattr(OperationLog, name) for name in OP_FIELDS)]  # fmt: skip


@frozen
class AuditReport:
    """What ``log verify`` found: counts, findings, and notes that are not findings."""

    rows: int
    chains: int
    seals: int
    sales: int
    operations: int
    #: Sales and operation-log entries written before protection began (migration 0005).
    before_protection: int
    #: Operation-log entries written without the log key, chained by the next seal.
    pending: int
    findings: tuple[Finding, ...]
    notes: tuple[Finding, ...] = ()
    #: The newest seal's MAC (what an auditor keeps as the next anchor).
    anchor: bytes | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


def _stream(conn: Connection, stmt: Select[Any]) -> Result[Any]:
    return conn.execute(stmt, execution_options=_STREAM)


def _seals(conn: Connection) -> tuple[list[StoredSeal], dict[str, list[tuple[int, SealHead]]]]:
    entries: dict[int, list[SealHead]] = defaultdict(list)
    by_chain: dict[str, list[tuple[int, SealHead]]] = defaultdict(list)
    for e in _stream(conn, select(LogSealEntry).order_by(LogSealEntry.seal_id)):
        head = SealHead(e.chain, e.seq, e.mac)
        entries[e.seal_id].append(head)
        by_chain[e.chain].append((e.seal_id, head))
    seals = [
        StoredSeal(s.id, s.at, tuple(entries.get(s.id, ())), s.prev_mac, s.mac, s.entries)
        for s in conn.execute(select(LogSeal).order_by(LogSeal.id))
    ]
    return seals, by_chain


def _op_link(key: LogKey, row: Any) -> Link:
    values = {name: getattr(row, name) for name in OP_FIELDS}

    def verifies(seq: int) -> bool:
        return bool(op_mac(key, {**values, "seq": seq}, row.prev_mac or b"") == row.mac)

    return Link(row.id, row.seq, row.prev_mac or b"", row.mac or b"", verifies)


def _reanchor(row: Any) -> Reanchor | None:
    try:
        d = row.detail
        return Reanchor(int(d["seal"]), bytes.fromhex(d["seal_mac"]), str(d["at"]),
                        str(d["operator"]), tuple(bytes.fromhex(m) for m in d["lost"]),
                        bytes.fromhex(d["mac"]))  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _grouped(result: Result[Any], key: str) -> Iterator[tuple[Any, list[Any]]]:
    for value, group in itertools.groupby(result, key=lambda r: getattr(r, key)):
        yield value, list(group)


def verify_log(conn: Connection, key: LogKey, *, anchor: bytes | None = None) -> AuditReport:
    """Verify everything the log key vouches for; report each exact finding."""
    findings: list[Finding] = []
    seals, sealed_by_chain = _seals(conn)
    findings.extend(verify_seals(key, seals))
    heads = {h.chain: (h.seq, h.mac) for h in conn.execute(select(LogHead))}
    boundary = read_boundary(conn)
    sale_boundary = 0 if boundary is None else boundary.sale
    op_boundary = 0 if boundary is None else boundary.operation
    seen: set[str] = set()
    count = 0
    records: list[RecordRow] = []

    def check(chain: str, links: list[Link]) -> None:
        seen.add(chain)
        findings.extend(verify_links(chain, links, heads.get(chain)))
        findings.extend(verify_sealed_heads(chain, links, sealed_by_chain.get(chain, ())))

    for chain, group in _grouped(_stream(conn, _CHAINED), "chain"):
        rows = [StoredRow(r.id, LogEntry.from_row(r), r.prev_mac, r.mac) for r in group]
        count += len(rows)
        records += [
            RecordRow(chain, r.entry.seq, r.row_id, r.entry.sale_id, r.entry.digest)
            for r in rows
            if r.entry.event == SALE_EVENT and r.entry.sale_id is not None
        ]
        check(chain, token_links(key, rows))

    operations = pending = before = 0
    reanchors: list[Reanchor] = []
    stmt = select(*_OP_COLUMNS).order_by(OperationLog.chain, OperationLog.seq, OperationLog.id)
    for chain, group in _grouped(_stream(conn, stmt), "chain"):
        operations += len(group)
        if chain is None:
            before += sum(1 for r in group if r.id <= op_boundary)
            pending += sum(1 for r in group if r.id > op_boundary)
            continue
        links = [_op_link(key, r) for r in group]
        check(chain, links)
        for r, link in zip(group, links, strict=True):
            if r.id <= op_boundary:
                findings.append(Finding("changed", f"operation-log row {r.id} lies before the "
                                        f"protection boundary {op_boundary}: the boundary was "
                                        "raised", chain, r.seq, r.id))  # fmt: skip
            if r.action == REANCHOR_ACTION and link.verifies(link.seq):
                statement = _reanchor(r)
                if statement is not None:
                    reanchors.append(statement)

    for unseen in sorted((set(heads) | set(sealed_by_chain)) - seen):
        findings.extend(verify_links(unseen, [], heads.get(unseen)))
        findings.extend(verify_sealed_heads(unseen, [], sealed_by_chain.get(unseen, ())))

    recorded, found = index_records(records, sale_boundary)
    findings += found
    notes: list[Finding] = []
    if boundary is not None:
        for f in check_boundary(key, boundary.body(), boundary.mac):
            (notes if f.kind == "pending" else findings).append(f)
    sales, sale_findings, before_sales = _check_sales(conn, recorded, sale_boundary)
    findings += sale_findings
    if anchor is not None:
        for f in check_anchor(key, seals, anchor, reanchors):
            (notes if f.kind == "restored" else findings).append(f)
    return AuditReport(
        rows=count, chains=len(seen), seals=len(seals), sales=sales, operations=operations,
        before_protection=before + before_sales, pending=pending, findings=tuple(findings),
        notes=tuple(notes), anchor=seals[-1].mac if seals else None,
    )  # fmt: skip


def _check_sales(
    conn: Connection, recorded: dict[int, RecordRow], boundary: int
) -> tuple[int, list[Finding], int]:
    """Merge the sales (by id) with their ledger lines and the chains' records of them."""
    columns = [getattr(Sale, name) for name in (*SALE_FIELDS, *SALE_POINT_FIELDS)]
    sales = _grouped(_stream(conn, select(*columns).order_by(Sale.id)), "id")
    findings: list[Finding] = []
    count = before = 0
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in conn.execute(
        select(LedgerEntry.sale_id, *(getattr(LedgerEntry, n) for n in LEDGER_FIELDS))
        .where(LedgerEntry.sale_id > boundary)
        .order_by(LedgerEntry.sale_id, LedgerEntry.id)
    ):
        lines[line.sale_id].append(line._asdict())
    done: set[int] = set()
    for sale_id, rows in sales:
        count += len(rows)
        if sale_id <= boundary:
            before += len(rows)
            continue
        done.add(sale_id)
        findings += check_sale(sale_id, recorded.get(sale_id), [r._asdict() for r in rows],
                               lines.get(sale_id, []), boundary)  # fmt: skip
    for sale_id in sorted((set(recorded) | set(lines)) - done):
        findings += check_sale(sale_id, recorded.get(sale_id), [], lines.get(sale_id, []),
                               boundary)  # fmt: skip
    return count, findings, before
