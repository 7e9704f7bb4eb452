"""Checks of the records the chains vouch for: sales and ledger lines, the operation log's
protection boundary, an external anchor and re-anchoring statements (sans-IO).

>>> from stsvend.tokenlog.chain import LogKey
>>> key = LogKey(bytes(32))
>>> [f.kind for f in check_anchor(key, [], bytes(32), [])]
['anchor']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import frozen

from stsvend.tokenlog.chain import LogKey
from stsvend.tokenlog.records import sale_digest, statement_mac
from stsvend.tokenlog.verify import Finding, StoredSeal

__all__ = [
    "REANCHOR_ACTION",
    "REANCHOR_STATEMENT",
    "Reanchor",
    "RecordRow",
    "check_anchor",
    "check_boundary",
    "check_sale",
    "check_sales",
    "index_records",
    "reanchor_body",
]

#: The operation-log action of a re-anchoring statement (``stsvend log reanchor``).
REANCHOR_ACTION = "log.reanchor"


@frozen
class RecordRow:
    """A token log ``sale`` row: where it is and the digest it vouches for."""

    chain: str
    seq: int
    row_id: int
    sale_id: int
    digest: bytes | None


@frozen
class Reanchor:
    """A statement, under the log key, that the store was restored from a backup whose
    newest seal was ``seal_id`` (MAC ``seal_mac``)."""

    seal_id: int
    seal_mac: bytes
    at: str
    operator: str
    #: The external anchors the custodian declares lost with the restore (newer than it).
    lost: tuple[bytes, ...]
    mac: bytes

    def body(self) -> dict[str, Any]:
        return reanchor_body(self.seal_id, self.seal_mac, self.at, self.operator, self.lost)

    def verifies(self, key: LogKey) -> bool:
        return statement_mac(key, REANCHOR_STATEMENT, self.body()) == self.mac


#: The statement name a re-anchoring MAC covers.
REANCHOR_STATEMENT = "reanchor"


def reanchor_body(
    seal_id: int, seal_mac: bytes, at: str, operator: str, lost: Iterable[bytes]
) -> dict[str, Any]:
    return {"seal": seal_id, "seal_mac": seal_mac.hex(), "at": at, "operator": operator,
            "lost": [m.hex() for m in lost]}  # fmt: skip


def _where(rec: RecordRow) -> str:
    return f"sale {rec.sale_id} (recorded by chain {rec.chain} seq {rec.seq})"


def index_records(
    records: Iterable[RecordRow], boundary: int
) -> tuple[dict[int, RecordRow], list[Finding]]:
    """The sale rows of the chains by sale id; a sale recorded twice, or recorded below the
    protection boundary, is a finding."""
    findings: list[Finding] = []
    recorded: dict[int, RecordRow] = {}
    for rec in records:
        if rec.sale_id in recorded:
            findings.append(Finding("inserted", f"{_where(rec)} is recorded twice", rec.chain,
                                    rec.seq, rec.row_id))  # fmt: skip
            continue
        recorded[rec.sale_id] = rec
        if rec.sale_id <= boundary:
            findings.append(Finding(
                "changed", f"{_where(rec)} lies before the protection boundary {boundary}: the "
                "boundary was raised", rec.chain, rec.seq, rec.row_id,
            ))  # fmt: skip
    return recorded, findings


def check_sale(
    sale_id: int,
    rec: RecordRow | None,
    rows: Sequence[Mapping[str, Any]],
    lines: Sequence[Mapping[str, Any]],
    boundary: int,
) -> list[Finding]:
    """One sale id: its rows (more than one only if a row was copied after dropping the key)
    and its ledger lines in id order, against the chain row that records it."""
    if rec is None:
        if sale_id <= boundary:
            return []
        what = "sale" if rows else "ledger line(s) of a missing sale"
        return [Finding("inserted", f"{what} {sale_id} is recorded by no chain: inserted")]
    if not rows:
        return [Finding("deleted", f"{_where(rec)} was deleted", rec.chain, rec.seq, rec.row_id)]
    findings: list[Finding] = []
    if rec.digest is None or sale_digest(rows[0], lines) != rec.digest:
        findings.append(Finding(
            "changed", f"{_where(rec)} or its {len(lines)} ledger line(s) were changed, added "
            "or removed", rec.chain, rec.seq, rec.row_id,
        ))  # fmt: skip
    findings += [
        Finding("inserted", f"{_where(rec)} has a copied row", rec.chain, rec.seq, rec.row_id)
        for _copy in rows[1:]
    ]
    return findings


def check_sales(
    records: Iterable[RecordRow],
    sales: Mapping[int, Sequence[Mapping[str, Any]]],
    ledger: Mapping[int, Sequence[Mapping[str, Any]]],
    boundary: int,
) -> list[Finding]:
    """Every sale after ``boundary`` is recorded once by a chain, with the same digest."""
    recorded, findings = index_records(records, boundary)
    for sale_id in sorted(set(sales) | set(ledger) | set(recorded)):
        findings += check_sale(sale_id, recorded.get(sale_id), sales.get(sale_id, ()),
                               ledger.get(sale_id, ()), boundary)  # fmt: skip
    return findings


def check_boundary(key: LogKey, body: Mapping[str, int] | None, mac: bytes | None) -> list[Finding]:
    """The protection boundary verifies.  One without a MAC yet (the migration's, until the
    next seal) is a ``pending`` note: raising it is caught by the rows it would then cover."""
    if body is None:
        return []
    name = "records_protected_from"
    if mac is None:
        return [Finding("pending", f"the protection boundary {dict(body)} is authenticated by "
                        "the next seal")]  # fmt: skip
    if statement_mac(key, name, body) != mac:
        return [Finding("changed", f"the protection boundary {dict(body)} was changed")]
    return []


def check_anchor(
    key: LogKey, seals: Sequence[StoredSeal], anchor: bytes, reanchors: Sequence[Reanchor]
) -> list[Finding]:
    """The anchored seal must exist and verify (the seal checks then prove that everything it
    and its predecessors recorded is still there).

    A missing anchor is excused (a ``restored`` note, not a finding) only when a re-anchoring
    statement that verifies declares it lost with a restore from backup.
    """
    for seal in seals:
        if seal.mac == anchor:
            return []
    short = anchor.hex()[:16]
    valid = [r for r in reanchors if r.verifies(key)]
    for r in valid:
        if anchor in r.lost:
            return [Finding(
                "restored",
                f"anchor {short}… was declared lost when the store was restored from a backup "
                f"at seal {r.seal_id} ({r.at}, by {r.operator})",
            )]  # fmt: skip
    restores = "; ".join(f"restored at seal {r.seal_id} on {r.at}" for r in valid)
    return [Finding(
        "anchor",
        f"no seal has the anchor MAC {short}…: the log was truncated or rolled back to before "
        "it" + (f" (the store was {restores}, which did not declare this anchor lost)"
                if restores else ""),
    )]  # fmt: skip
