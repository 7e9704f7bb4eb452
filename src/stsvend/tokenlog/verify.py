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

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from attrs import evolve, field, frozen

from stsvend.tokenlog.chain import GENESIS, LogEntry, LogKey, SealHead

__all__ = [
    "Finding",
    "Link",
    "StoredRow",
    "StoredSeal",
    "VerifyReport",
    "token_links",
    "verify_chain",
    "verify_links",
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


@frozen
class Link:
    """A row's place in its chain, whatever the table: its number, its MACs, and whether its
    own MAC verifies were it numbered ``seq`` (``verifies(seq)``)."""

    row_id: int
    seq: int
    prev_mac: bytes
    mac: bytes
    verifies: Callable[[int], bool] = field(eq=False)


def token_links(key: LogKey, rows: Iterable[StoredRow]) -> list[Link]:
    """The links of token log rows (MAC over the row, renumbered to ``seq``)."""

    def link(row: StoredRow) -> Link:
        def verifies(seq: int) -> bool:
            entry = row.entry if seq == row.entry.seq else evolve(row.entry, seq=seq)
            return key.row_mac(entry, row.prev_mac) == row.mac

        return Link(row.row_id, row.entry.seq, row.prev_mac, row.mac, verifies)

    return [link(r) for r in rows]


def _where(chain: str, row: Link) -> str:
    return f"row {row.row_id} (chain {chain} seq {row.seq})"


def _shift_of(row: Link) -> int | None:
    """By how much the row was renumbered (its MAC verifies under seq + shift), if at all."""
    for distance in range(1, _RENUMBER_SEARCH + 1):
        for shift in (distance, -distance):
            if row.seq + shift >= 1 and row.verifies(row.seq + shift):
                return shift
    return None


def _classify_bad(
    chain: str, rows: Sequence[Link], i: int, good: Sequence[bool], head: tuple[int, bytes] | None
) -> Finding:
    row = rows[i]
    prev = rows[i - 1] if i > 0 else None
    nxt = rows[i + 1] if i + 1 < len(rows) else None
    prev_mac = prev.mac if prev is not None else GENESIS
    if nxt is not None and nxt.prev_mac == prev_mac:
        kind, how = "inserted", "was inserted: the rows around it link to each other"
    elif nxt is not None and nxt.prev_mac == row.mac:
        kind, how = "changed", "was changed: its content no longer matches its MAC"
    elif head is not None and row.seq > head[0] and row.mac != head[1]:
        kind, how = "inserted", "was inserted: it lies beyond the chain's recorded head"
    elif nxt is None and head is not None and row.mac == head[1]:
        kind, how = "changed", "was changed: its content no longer matches its MAC"
    else:
        kind, how = "changed", "was changed or inserted: its MAC does not verify"
    return Finding(kind, f"{_where(chain, row)} {how}", chain, row.seq, row.row_id)


def _duplicate(chain: str, first: Link, second: Link) -> Finding:
    same = first.mac == second.mac and first.prev_mac == second.prev_mac
    how = (
        f"is an exact copy of row {first.row_id}"
        if same
        else f"has the same number as row {first.row_id}"
    )
    return Finding("inserted", f"{_where(chain, second)} {how}", chain, second.seq, second.row_id)


def verify_links(chain: str, rows: Sequence[Link], head: tuple[int, bytes] | None) -> list[Finding]:
    """Check one chain's rows (sorted by seq, then row id) against its recorded head.

    A row inserted in the middle is one finding, however many rows after it were renumbered
    to make room; so is a run of rows renumbered to close a gap.
    """
    findings: list[Finding] = []
    kept: list[Link] = []
    for row in rows:  # an exact or numbered copy of a row is an insertion, reported once
        if kept and row.seq == kept[-1].seq:
            other = kept[-1]
            if not row.verifies(row.seq) and other.verifies(other.seq):
                findings.append(_duplicate(chain, other, row))
                continue
            if row.verifies(row.seq) and not other.verifies(other.seq):
                findings.append(_duplicate(chain, row, other))
                kept[-1] = row
                continue
            findings.append(_duplicate(chain, other, row))
            continue
        kept.append(row)
    good = [r.verifies(r.seq) for r in kept]
    expected, shift_run, inserted_before = 1, 0, False
    for i, row in enumerate(kept):
        if row.seq > expected:
            missing = f"seq {expected}" + ("" if row.seq == expected + 1 else f"-{row.seq - 1}")
            findings.append(
                Finding("deleted", f"chain {chain}: {missing} deleted (before row {row.row_id})",
                        chain, expected)
            )  # fmt: skip
        if not good[i]:
            shift = _shift_of(row)
            if shift is None:
                finding = _classify_bad(chain, kept, i, good, head)
                findings.append(finding)
                inserted_before = inserted_before or finding.kind == "inserted"
                shift_run = 0
            elif shift != shift_run:
                shift_run = shift
                if shift > 0:
                    findings.append(Finding(
                        "deleted",
                        f"{_where(chain, row)} was seq {row.seq + shift}: {shift} row(s) before "
                        "it were deleted and the rest renumbered",
                        chain, row.seq, row.row_id,
                    ))  # fmt: skip
                elif not inserted_before:
                    findings.append(Finding(
                        "inserted",
                        f"{_where(chain, row)} was seq {row.seq + shift}: {-shift} row(s) were "
                        "inserted before it and the rest renumbered",
                        chain, row.seq, row.row_id,
                    ))  # fmt: skip
        elif i > 0 and row.seq == kept[i - 1].seq + 1 and row.prev_mac != kept[i - 1].mac:
            prev = kept[i - 1]
            if good[i - 1]:
                message = f"{_where(chain, prev)} was replaced: the next row does not link to it"
                findings.append(Finding("changed", message, chain, prev.seq, prev.row_id))
        elif i == 0 and row.seq == 1 and row.prev_mac != GENESIS:
            findings.append(
                Finding("changed", f"{_where(chain, row)} does not start its chain", chain, 1,
                        row.row_id)
            )  # fmt: skip
        expected = row.seq + 1
    if head is not None:
        findings.extend(_check_head(chain, kept, head))
    return findings


def verify_chain(
    key: LogKey, chain: str, rows: Sequence[StoredRow], head: tuple[int, bytes] | None
) -> list[Finding]:
    """Check one token log chain's rows (sorted by seq) against its recorded head."""
    return verify_links(chain, token_links(key, rows), head)


def _check_head(chain: str, rows: Sequence[Link], head: tuple[int, bytes]) -> list[Finding]:
    head_seq, head_mac = head
    if not rows:
        if head_seq == 0:
            return []
        return [Finding("deleted", f"chain {chain}: all {head_seq} row(s) were deleted", chain, 1)]
    last = rows[-1]
    if last.mac == head_mac:
        return []
    if head_seq > last.seq:
        return [
            Finding(
                "deleted",
                f"chain {chain}: seq {last.seq + 1}-{head_seq} deleted (the tail)",
                chain,
                last.seq + 1,
            )
        ]
    if head_seq == last.seq:
        return [
            Finding(
                "changed",
                f"{_where(chain, last)} is not the row the chain head recorded",
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
    chain: str, rows: Sequence[Link], sealed: Iterable[tuple[int, SealHead]]
) -> list[Finding]:
    """Each (seal id, head) a seal recorded for ``chain`` must still be among its rows."""
    by_mac = {r.mac for r in rows}
    by_seq = {r.seq: r for r in rows}
    findings: list[Finding] = []
    for seal_id, head in sealed:
        if head.mac in by_mac:
            continue
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
        else:
            findings.append(
                Finding(
                    "changed",
                    f"{_where(chain, row)} differs from what seal {seal_id} recorded",
                    chain,
                    head.seq,
                    row.row_id,
                )
            )
    return findings
