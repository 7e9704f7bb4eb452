"""The pure chain and its verification: every kind of tampering is named at its exact row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from stsvend.tokenlog.chain import GENESIS, LogEntry, LogKey, SealHead, canonical_entry
from stsvend.tokenlog.verify import (
    StoredRow,
    StoredSeal,
    token_links,
    verify_chain,
    verify_sealed_heads,
    verify_seals,
)

KEY = LogKey(b"k" * 32)
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _entries(n: int, chain: str = "01234567897") -> list[LogEntry]:
    return [
        LogEntry(
            chain=chain,
            seq=s,
            at=T0 + timedelta(minutes=s),
            event="token",
            request_id=f"req-{s}",
            operator="ann",
            terminal="T1",
            test=True,
            meter=chain,
            token_class=0,
            subclass=0,
            base_date=2014,
            tid=1000 + s,
            amount=100 * s,
            digits=f"{s:020d}",
        )
        for s in range(1, n + 1)
    ]


def _rows(entries: list[LogEntry], key: LogKey = KEY) -> list[StoredRow]:
    macs = key.chain(entries, GENESIS)
    pairs = enumerate(zip(entries, macs, strict=True))
    return [StoredRow(100 + i, e, p, m) for i, (e, (p, m)) in pairs]


def _head(rows: list[StoredRow]) -> tuple[int, bytes]:
    return rows[-1].entry.seq, rows[-1].mac


def test_a_clean_chain_verifies() -> None:
    rows = _rows(_entries(5))
    assert verify_chain(KEY, "01234567897", rows, _head(rows)) == []


def test_another_key_finds_every_row_changed() -> None:
    rows = _rows(_entries(3))
    findings = verify_chain(LogKey(b"x" * 32), "01234567897", rows, _head(rows))
    assert [f.row_id for f in findings] == [r.row_id for r in rows]


@given(st.integers(min_value=0, max_value=5), st.sampled_from(["amount", "operator", "tid"]))
def test_a_changed_field_is_reported_at_its_row(index: int, name: str) -> None:
    rows = _rows(_entries(6))
    head = _head(rows)
    entry = rows[index].entry
    value = getattr(entry, name)
    # The fields differ in type, so the one changed is only known at run time.
    change: dict[str, Any] = {name: value + "x" if isinstance(value, str) else value + 1}
    changed = evolve(entry, **change)
    rows[index] = evolve(rows[index], entry=changed)
    findings = verify_chain(KEY, "01234567897", rows, head)
    assert [(f.kind, f.row_id) for f in findings] == [("changed", rows[index].row_id)]


@given(st.integers(min_value=0, max_value=4))
def test_a_deleted_row_is_reported_by_its_seq(index: int) -> None:
    rows = _rows(_entries(6))
    head = _head(rows)
    deleted = rows.pop(index)
    findings = verify_chain(KEY, "01234567897", rows, head)
    assert findings[0].kind == "deleted"
    assert findings[0].seq == deleted.entry.seq
    assert f"seq {deleted.entry.seq}" in findings[0].message


def test_deleting_the_tail_is_caught_by_the_head() -> None:
    rows = _rows(_entries(6))
    head = _head(rows)
    findings = verify_chain(KEY, "01234567897", rows[:4], head)
    assert [(f.kind, f.seq) for f in findings] == [("deleted", 5)]
    assert "seq 5-6" in findings[0].message


def test_deleting_every_row_of_a_chain_is_caught_by_the_head() -> None:
    rows = _rows(_entries(2))
    findings = verify_chain(KEY, "01234567897", [], _head(rows))
    assert [f.kind for f in findings] == ["deleted"]


def test_a_deleted_row_with_the_rest_renumbered_is_named() -> None:
    entries = _entries(6)
    rows = _rows(entries)
    head = _head(rows)
    del rows[2]  # seq 3 goes; seq 4.. are renumbered to close the gap
    renumbered = [rows[0], rows[1]] + [
        evolve(r, entry=evolve(r.entry, seq=r.entry.seq - 1)) for r in rows[2:]
    ]
    findings = verify_chain(KEY, "01234567897", renumbered, head)
    first = findings[0]
    assert first.kind == "deleted"
    assert first.row_id == rows[2].row_id
    assert "1 row(s) before it were deleted" in first.message


def test_an_inserted_row_in_the_middle_is_named() -> None:
    rows = _rows(_entries(4))
    head = _head(rows)
    forged_entry = evolve(rows[1].entry, seq=3, request_id="forged")
    # The forger renumbers the rows after it to make room; they no longer verify either.
    forged = StoredRow(999, forged_entry, rows[1].mac, b"\x00" * 32)
    later = [evolve(r, entry=evolve(r.entry, seq=r.entry.seq + 1)) for r in rows[2:]]
    findings = verify_chain(KEY, "01234567897", [*rows[:2], forged, *later], head)
    assert findings[0].row_id == 999
    assert findings[0].kind in {"inserted", "changed"}
    assert all(f.kind != "ok" for f in findings)


def test_an_appended_row_beyond_the_head_is_inserted() -> None:
    rows = _rows(_entries(3))
    head = _head(rows)
    extra = StoredRow(999, evolve(rows[-1].entry, seq=4), rows[-1].mac, b"\x01" * 32)
    findings = verify_chain(KEY, "01234567897", [*rows, extra], head)
    assert [(f.kind, f.row_id) for f in findings] == [("inserted", 999)]


def test_a_row_whose_mac_was_replaced_is_reported() -> None:
    rows = _rows(_entries(4))
    head = _head(rows)
    rows[1] = evolve(rows[1], mac=b"\x02" * 32)
    findings = verify_chain(KEY, "01234567897", rows, head)
    assert rows[1].row_id in {f.row_id for f in findings}


def test_the_mac_covers_every_field() -> None:
    entry = _entries(1)[0]
    base = KEY.row_mac(entry, GENESIS)
    for name in attrs.fields(LogEntry):
        value = getattr(entry, name.name)
        other: object
        if isinstance(value, bool):
            other = not value
        elif isinstance(value, int):
            other = value + 1
        elif isinstance(value, datetime):
            other = value + timedelta(microseconds=1)
        elif value is None:
            other = 7 if name.name not in {"kcv", "note"} else "x"
        else:
            other = value + "x"
        change: dict[str, Any] = {name.name: other}
        changed = evolve(entry, **change)
        assert canonical_entry(changed) != canonical_entry(entry), name.name
        assert KEY.row_mac(changed, GENESIS) != base, name.name


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        evolve(_entries(1)[0], at=datetime(2026, 1, 1))


def test_a_short_log_key_is_refused_and_never_shown() -> None:
    with pytest.raises(ValueError):
        LogKey(b"short")
    assert "kkkk" not in repr(KEY)
    assert repr(KEY).startswith("LogKey(check=")


def _seals(n: int) -> list[StoredSeal]:
    seals: list[StoredSeal] = []
    prev = GENESIS
    for i in range(1, n + 1):
        heads = (SealHead("a", i, bytes([i]) * 32),)
        at = T0 + timedelta(hours=i)
        mac = KEY.seal_mac(i, at, heads, prev)
        seals.append(StoredSeal(i, at, heads, prev, mac))
        prev = mac
    return seals


def test_seals_verify_and_a_missing_or_changed_seal_is_named() -> None:
    seals = _seals(4)
    assert verify_seals(KEY, seals) == []
    gap = verify_seals(KEY, [seals[0], seals[2], seals[3]])
    assert [f.message for f in gap] == ["seal 2 deleted"]
    changed = [seals[0], evolve(seals[1], heads=(SealHead("a", 9, b"\x09" * 32),)), *seals[2:]]
    assert [f.message for f in verify_seals(KEY, changed)] == ["seal 2 was changed"]


def test_a_sealed_head_that_is_gone_is_reported() -> None:
    rows = _rows(_entries(3))
    sealed = [(1, SealHead("01234567897", 3, rows[2].mac))]
    assert verify_sealed_heads("01234567897", token_links(KEY, rows), sealed) == []
    findings = verify_sealed_heads("01234567897", token_links(KEY, rows[:2]), sealed)
    assert [(f.kind, f.seq) for f in findings] == [("deleted", 3)]
    other = [(1, SealHead("01234567897", 2, b"\x05" * 32))]
    links = token_links(KEY, rows)
    assert [f.kind for f in verify_sealed_heads("01234567897", links, other)] == ["changed"]
