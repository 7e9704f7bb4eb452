"""Verification of the token log: which exact row was changed, deleted or inserted (sans-IO).

The checks, per chain (rows in ``seq`` order):

* every row's MAC must verify under the log key → otherwise the row was **changed** (its
  content no longer matches its MAC while the next row still links to that MAC), or
  **inserted** (the rows around it link to each other, or it lies beyond the recorded head);
* sequence numbers run 1, 2, 3… → a gap means rows were **deleted**; a row whose MAC verifies
  only under a higher number means rows before it were deleted and the rest renumbered;
* each row's ``prev_mac`` is its predecessor's ``mac`` → otherwise the predecessor was changed;
* the recorded head (``log_head``) matches the last row → otherwise the tail was deleted;
* every seal verifies, seals are numbered without gaps and each chain head a seal commits to
  is still present with the same MAC → otherwise sealed rows (or whole chains) were deleted.

>>> from datetime import UTC, datetime
>>> key = LogKey(bytes(32))
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> entries = [LogEntry(chain="m", seq=s, at=at, event="token", request_id=f"r{s}",
...                     operator="ann", terminal="T", test=False) for s in (1, 2, 3)]
>>> rows = [StoredRow(i + 1, e, p, m) for i, (e, (p, m)) in
...         enumerate(zip(entries, key.chain(entries, GENESIS)))]
>>> verify_chain(key, "m", rows, head=(3, rows[-1].mac))
[]
>>> [f.kind for f in verify_chain(key, "m", [rows[0], rows[2]], head=(3, rows[-1].mac))]
['deleted']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from attrs import evolve, frozen

from stsvend.tokenlog.chain import GENESIS, LogEntry, LogKey, SealHead

__all__ = [
    "Finding",
    "StoredRow",
    "StoredSeal",
    "VerifyReport",
    "verify_chain",
    "verify_sealed_heads",
    "verify_seals",
]

# How far a renumbered row is searched for (rows deleted before it).
_RENUMBER_SEARCH = 64


@frozen
class StoredRow:
    """A row as read back from the database."""

    row_id: int
    entry: LogEntry
    prev_mac: bytes
    mac: bytes


@frozen
class StoredSeal:
    seal_id: int
    at: datetime
    heads: tuple[SealHead, ...]
    prev_mac: bytes
    mac: bytes
    #: The head count the seal row states (None: not recorded).
    entries: int | None = None


@frozen
class Finding:
    """One problem: ``kind`` is "changed", "deleted", "inserted" or "seal"."""

    kind: str
    message: str
    chain: str | None = None
    seq: int | None = None
    row_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "chain": self.chain,
            "seq": self.seq,
            "row_id": self.row_id,
            "message": self.message,
        }


@frozen
class VerifyReport:
    rows: int
    chains: int
    seals: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def _where(row: StoredRow) -> str:
    return f"row {row.row_id} (chain {row.entry.chain} seq {row.entry.seq})"


def _renumbered_by(key: LogKey, row: StoredRow) -> int | None:
    for shift in range(1, _RENUMBER_SEARCH + 1):
        moved = evolve(row.entry, seq=row.entry.seq + shift)
        if key.row_mac(moved, row.prev_mac) == row.mac:
            return shift
    return None


def _classify_bad(
    key: LogKey,
    rows: Sequence[StoredRow],
    i: int,
    good: Sequence[bool],
    head: tuple[int, bytes] | None,
) -> Finding:
    row = rows[i]
    where = _where(row)
    shift = _renumbered_by(key, row)
    if shift is not None:
        return Finding(
            "deleted",
            f"{where} was seq {row.entry.seq + shift}: {shift} row(s) before it were deleted "
            "and the chain renumbered",
            row.entry.chain,
            row.entry.seq,
            row.row_id,
        )
    prev = rows[i - 1] if i > 0 else None
    nxt = rows[i + 1] if i + 1 < len(rows) else None
    prev_mac = prev.mac if prev is not None else GENESIS
    if nxt is not None and good[i + 1] and nxt.prev_mac == prev_mac:
        kind, how = "inserted", "was inserted: the rows around it link to each other"
    elif nxt is not None and nxt.prev_mac == row.mac:
        kind, how = "changed", "was changed: its content no longer matches its MAC"
    elif head is not None and row.entry.seq > head[0]:
        kind, how = "inserted", "was inserted: it lies beyond the chain's recorded head"
    elif nxt is None and head is not None and row.mac == head[1]:
        kind, how = "changed", "was changed: its content no longer matches its MAC"
    else:
        kind, how = "changed", "was changed or inserted: its MAC does not verify"
    return Finding(kind, f"{where} {how}", row.entry.chain, row.entry.seq, row.row_id)


def verify_chain(
    key: LogKey, chain: str, rows: Sequence[StoredRow], head: tuple[int, bytes] | None
) -> list[Finding]:
    """Check one chain's rows (sorted by seq) against its recorded head ``(seq, mac)``."""
    findings: list[Finding] = []
    good = [key.row_mac(r.entry, r.prev_mac) == r.mac for r in rows]
    expected = 1
    for i, row in enumerate(rows):
        seq = row.entry.seq
        if seq > expected:
            missing = f"seq {expected}" if seq == expected + 1 else f"seq {expected}-{seq - 1}"
            findings.append(
                Finding(
                    "deleted",
                    f"chain {chain}: {missing} deleted (before row {row.row_id})",
                    chain,
                    expected,
                )
            )
        if not good[i]:
            findings.append(_classify_bad(key, rows, i, good, head))
        elif i > 0 and seq == rows[i - 1].entry.seq + 1 and row.prev_mac != rows[i - 1].mac:
            prev = rows[i - 1]
            if good[i - 1]:
                message = f"{_where(prev)} was replaced: the next row does not link to it"
                findings.append(Finding("changed", message, chain, prev.entry.seq, prev.row_id))
        elif i == 0 and seq == 1 and row.prev_mac != GENESIS:
            findings.append(
                Finding("changed", f"{_where(row)} does not start its chain", chain, 1, row.row_id)
            )
        expected = seq + 1
    if head is not None:
        findings.extend(_check_head(chain, rows, head))
    return findings


def _check_head(chain: str, rows: Sequence[StoredRow], head: tuple[int, bytes]) -> list[Finding]:
    head_seq, head_mac = head
    if not rows:
        return [Finding("deleted", f"chain {chain}: all {head_seq} row(s) were deleted", chain, 1)]
    last = rows[-1]
    if head_seq > last.entry.seq:
        return [
            Finding(
                "deleted",
                f"chain {chain}: seq {last.entry.seq + 1}-{head_seq} deleted (the tail)",
                chain,
                last.entry.seq + 1,
            )
        ]
    if head_seq == last.entry.seq and head_mac != last.mac:
        return [
            Finding(
                "changed",
                f"{_where(last)} is not the row the chain head recorded",
                chain,
                head_seq,
                last.row_id,
            )
        ]
    return []


def verify_seals(key: LogKey, seals: Iterable[StoredSeal]) -> list[Finding]:
    """Check the seals' own chain: numbered 1, 2, 3…, each MAC valid and linked."""
    findings: list[Finding] = []
    expected, prev_mac = 1, GENESIS
    for seal in seals:
        if seal.seal_id > expected:
            gone = (
                f"seal {expected}"
                if seal.seal_id == expected + 1
                else f"seals {expected}-{seal.seal_id - 1}"
            )
            findings.append(Finding("seal", f"{gone} deleted"))
        counted = seal.entries is None or seal.entries == len(seal.heads)
        if (
            not counted
            or key.seal_mac(seal.seal_id, seal.at, seal.heads, seal.prev_mac) != seal.mac
        ):
            findings.append(Finding("seal", f"seal {seal.seal_id} was changed"))
        elif seal.seal_id == expected and seal.prev_mac != prev_mac:
            findings.append(Finding("seal", f"seal {seal.seal_id - 1} was replaced"))
        expected, prev_mac = seal.seal_id + 1, seal.mac
    return findings


def verify_sealed_heads(
    chain: str, rows: Sequence[StoredRow], sealed: Iterable[tuple[int, SealHead]]
) -> list[Finding]:
    """Each (seal id, head) a seal recorded for ``chain`` must still be in its rows."""
    by_seq = {r.entry.seq: r for r in rows}
    findings: list[Finding] = []
    for seal_id, head in sealed:
        row = by_seq.get(head.seq)
        if row is None:
            findings.append(
                Finding(
                    "deleted",
                    f"chain {chain} seq {head.seq}, sealed by seal {seal_id}, was deleted",
                    chain,
                    head.seq,
                )
            )
        elif row.mac != head.mac:
            findings.append(
                Finding(
                    "changed",
                    f"{_where(row)} differs from what seal {seal_id} recorded",
                    chain,
                    head.seq,
                    row.row_id,
                )
            )
    return findings
