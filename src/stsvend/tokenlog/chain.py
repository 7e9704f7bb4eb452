"""The token log's rows and their keyed chain (sans-IO: no database, no clock here).

Every row carries ``mac = HMAC-SHA-256(log key, "row" ‖ prev_mac ‖ canonical(row))`` where
``prev_mac`` is the ``mac`` of the previous row *of the same chain* (one chain per meter, so two
vends for different meters never wait for each other) and ``canonical`` is a fixed JSON
rendering of every field, the chain name and sequence number included.  The first row of a
chain has ``prev_mac`` = 32 zero bytes.

Without the log key nobody can write a row that verifies, nor re-link a chain after removing a
row; see ``docs/token-log.md`` for the threat model.

>>> key = LogKey(bytes(32))
>>> entry = LogEntry(chain="01234567897", seq=1, at=datetime(2026, 1, 1, tzinfo=UTC),
...                  event="token", request_id="r1", operator="ann", terminal="T1", test=True)
>>> mac = key.row_mac(entry, GENESIS)
>>> len(mac), key.row_mac(entry, GENESIS) == mac
(32, True)
>>> from attrs import evolve
>>> key.row_mac(evolve(entry, operator="bob"), GENESIS) == mac
False
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

__all__ = [
    "FIELDS",
    "GENESIS",
    "NO_METER_CHAIN",
    "LogEntry",
    "LogKey",
    "SealHead",
    "canonical_entry",
    "canonical_seal",
    "canonical_values",
]

#: ``prev_mac`` of the first row of every chain and of the first seal.
GENESIS = bytes(32)
#: The chain of tokens issued for no particular meter (class 1 tokens for every meter).
NO_METER_CHAIN = "*"

_ROW_DOMAIN = b"stsvend/token-log/row/v1\x00"
_SEAL_DOMAIN = b"stsvend/token-log/seal/v1\x00"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a log time must be timezone-aware")
    return value.astimezone(UTC)


@frozen
class LogEntry:
    """One row of the token log, as written (its chain position included, its MACs not).

    ``event`` is ``"token"`` for an issued token and ``"reversal"`` for the mark that a token
    was reversed (``ref_seq`` names the token row of the same chain); ``purpose`` says why a
    token was issued (sale, free_issue, emergency_credit, key_change, engineering, test).
    ``amount`` is in the token's own unit: tenths of a unit for credit, watts for limits, raw
    field otherwise.
    Never a key: ``kcv`` is the decoder key's check value.
    """

    chain: str
    seq: int
    at: datetime = field(converter=_aware)
    event: str
    request_id: str
    operator: str
    terminal: str
    test: bool
    purpose: str | None = None
    sale_id: int | None = None
    meter: str | None = None
    token_class: int | None = None
    subclass: int | None = None
    base_date: int | None = None
    tid: int | None = None
    amount: int | None = None
    sgc: int | None = None
    krn: int | None = None
    ti: int | None = None
    kcv: str | None = None
    digits: str | None = None
    ref_seq: int | None = None
    note: str | None = None
    #: A ``sale`` row's digest of its sale and ledger lines (:mod:`~stsvend.tokenlog.records`).
    digest: bytes | None = None

    def as_row(self) -> dict[str, Any]:
        """The column values (for an INSERT), without the MACs."""
        # Named fields rather than attrs' generic asdict: this runs for every row logged.
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_row(cls, row: Any) -> LogEntry:
        """Rebuild from a database row (any mapping or object with the column names)."""
        if isinstance(row, dict):
            values: dict[str, Any] = {name: row.get(name) for name in _FIELDS}
        else:  # a row of a table without every column (sale records) gives None for the rest
            values = {name: getattr(row, name, None) for name in _FIELDS}
        return cls(**values)


#: The column names of a log row's content (its MACs aside), in declaration order.
FIELDS: tuple[str, ...] = tuple(f.name for f in LogEntry.__attrs_attrs__)
_FIELDS = FIELDS


def canonical_entry(entry: LogEntry) -> bytes:
    """The bytes a row's MAC covers: every field, in a fixed JSON form.

    >>> canonical_entry(LogEntry(chain="*", seq=1, at=datetime(2026, 1, 1, tzinfo=UTC),
    ...                          event="token", request_id="r", operator="a", terminal="t",
    ...                          test=False))[:40]
    b'{"amount":null,"at":"2026-01-01T00:00:00'
    """
    return canonical_values(entry.as_row())


def canonical_values(values: Mapping[str, Any]) -> bytes:
    """:func:`canonical_entry` of a row given as column values (every field of LogEntry)."""
    out = dict(values)
    out["at"] = _aware(out["at"]).isoformat(timespec="microseconds")
    digest = out.pop("digest", None)
    if digest is not None:  # absent from rows written before records were chained
        out["digest"] = bytes(digest).hex()
    return json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@frozen
class SealHead:
    """A chain head as a seal commits to it."""

    chain: str
    seq: int
    mac: bytes


def canonical_seal(seal_id: int, at: datetime, heads: Iterable[SealHead]) -> bytes:
    """The bytes a seal's MAC covers: its number, time and the heads, sorted by chain."""
    body = {
        "id": seal_id,
        "at": _aware(at).isoformat(timespec="microseconds"),
        "heads": [[h.chain, h.seq, h.mac.hex()] for h in sorted(heads, key=lambda h: h.chain)],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@frozen(repr=False)
class LogKey:
    """The secret that authenticates the log.  Its ``repr`` never shows it.

    Derive it from the keystore's key-encryption key with :meth:`derive`, so that it is in the
    same custody as the vending keys and never stored anywhere.
    """

    _secret: bytes = field(alias="secret")

    def __attrs_post_init__(self) -> None:
        if not isinstance(self._secret, bytes) or len(self._secret) < 16:
            raise ValueError("a log key is at least 16 bytes")

    def __repr__(self) -> str:
        return f"LogKey(check={self.check_value})"

    @classmethod
    def derive(cls, master: bytes, context: bytes = b"stsvend token log key v1") -> LogKey:
        """A log key from a master secret (the keystore's KEK), separated by ``context``."""
        return cls(hmac.digest(master, context, hashlib.sha256))

    @property
    def check_value(self) -> str:
        """6 hex digits naming the key (stored with the log, so a wrong key is seen at once)."""
        return hmac.digest(self._secret, b"check value", hashlib.sha256)[:3].hex().upper()

    def row_mac(self, entry: LogEntry, prev_mac: bytes) -> bytes:
        return self.values_mac(entry.as_row(), prev_mac)

    def values_mac(self, values: Mapping[str, Any], prev_mac: bytes) -> bytes:
        """:meth:`row_mac` of a row given as column values (bulk writers skip LogEntry)."""
        return hmac.digest(
            self._secret, _ROW_DOMAIN + prev_mac + canonical_values(values), hashlib.sha256
        )

    def seal_mac(
        self, seal_id: int, at: datetime, heads: Iterable[SealHead], prev_mac: bytes
    ) -> bytes:
        return hmac.digest(
            self._secret,
            _SEAL_DOMAIN + prev_mac + canonical_seal(seal_id, at, heads),
            hashlib.sha256,
        )

    def tag(self, domain: bytes, body: bytes) -> bytes:
        """HMAC-SHA-256 of ``body`` in its own ``domain`` (operation-log entries, statements)."""
        return hmac.digest(self._secret, domain + b"\x00" + body, hashlib.sha256)

    def chain(self, entries: Iterable[LogEntry], prev_mac: bytes) -> list[tuple[bytes, bytes]]:
        """``(prev_mac, mac)`` for consecutive entries of one chain, starting after ``prev_mac``."""
        out: list[tuple[bytes, bytes]] = []
        for entry in entries:
            mac = self.row_mac(entry, prev_mac)
            out.append((prev_mac, mac))
            prev_mac = mac
        return out
