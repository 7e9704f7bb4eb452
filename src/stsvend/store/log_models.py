"""The token log's tables: token rows, sale records, chain heads, seals and the operation log.

Kept apart from the business tables of :mod:`stsvend.store.models` (which re-exports them) so
that each module stays one concern; docs/token-log.md describes every column's role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stsvend.store.base import Base, BigId, UtcDateTime

__all__ = [
    "CHAIN_NAME",
    "LogHead",
    "LogSeal",
    "LogSealEntry",
    "LogSealedHead",
    "OperationLog",
    "SaleRecord",
    "TokenLog",
]


class TokenLog(Base):
    """The token log: one row per token issued (and per reversal), chained per meter.

    ``mac`` is an HMAC under the log key over the row's fields and the previous row's ``mac`` in
    the same chain; rows are only ever inserted.  The chain of a meter is its DRN; tokens for no
    meter (class 1 for every meter) go to the chain ``"*"``.
    """

    __tablename__ = "token_log"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        UniqueConstraint("meter", "base_date", "tid"),
        Index("ix_token_log_at", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chain: Mapped[str] = mapped_column(String(13))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    event: Mapped[str] = mapped_column(String(12))
    #: Why the token was issued: sale, free_issue, emergency_credit, key_change, engineering, test.
    purpose: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sale_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    request_id: Mapped[str] = mapped_column(String(64))
    meter: Mapped[str | None] = mapped_column(String(13), nullable=True)
    token_class: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subclass: Mapped[int | None] = mapped_column(Integer, nullable=True)
    base_date: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sgc: Mapped[int | None] = mapped_column(Integer, nullable=True)
    krn: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ti: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kcv: Mapped[str | None] = mapped_column(String(6), nullable=True)
    operator: Mapped[str] = mapped_column(String(40), index=True)
    terminal: Mapped[str] = mapped_column(String(64))
    digits: Mapped[str | None] = mapped_column(String(20), nullable=True)
    test: Mapped[bool] = mapped_column(Boolean)
    #: For a reversal row: the (chain, seq) of the token row it marks.
    ref_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prev_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class SaleRecord(Base):
    """A sale's place in its meter's chain (``*``: no meter): the SHA-256 of the sale and its
    ledger lines, chained with the meter's token rows under the same head and the same lock.

    Its MAC is that of a token log row whose token fields are empty (docs/token-log.md).
    """

    __tablename__ = "sale_record"
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chain: Mapped[str] = mapped_column(String(13))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    event: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sale_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    request_id: Mapped[str] = mapped_column(String(64))
    meter: Mapped[str | None] = mapped_column(String(13), nullable=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    operator: Mapped[str] = mapped_column(String(40))
    terminal: Mapped[str] = mapped_column(String(64))
    test: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    prev_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


#: Wide enough for a meter's DRN and for an operation-log chain (``op:`` and a username).
CHAIN_NAME = String(64)


class LogHead(Base):
    """The last row of each chain (locked with the meter, so chains never share a lock)."""

    __tablename__ = "log_head"
    chain: Mapped[str] = mapped_column(CHAIN_NAME, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogSeal(Base):
    """A seal: an HMAC over the chain heads that moved since the previous seal, and its MAC."""

    __tablename__ = "log_seal"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    entries: Mapped[int] = mapped_column(Integer)
    prev_mac: Mapped[bytes] = mapped_column(LargeBinary(32))
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogSealEntry(Base):
    """One chain head committed to by a seal."""

    __tablename__ = "log_seal_entry"
    seal_id: Mapped[int] = mapped_column(ForeignKey("log_seal.id"), primary_key=True)
    chain: Mapped[str] = mapped_column(CHAIN_NAME, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    mac: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogSealedHead(Base):
    """The sealer's index of the seal that last recorded each chain (vends never touch it).

    Only an index: the sealer trusts a row only where the seal entry it names records the same
    head, and that entry is covered by the seal's MAC (``docs/token-log.md``).
    """

    __tablename__ = "log_sealed_head"
    chain: Mapped[str] = mapped_column(CHAIN_NAME, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    seal_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class OperationLog(Base):
    """Who did what, where and when (including refusals of permission and failed logins)."""

    __tablename__ = "operation_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    operator: Mapped[str] = mapped_column(String(40))
    terminal: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(10))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The entry's chain (``op:`` and the operator), number and MACs; NULL for an entry written
    #: without the log key, until the sealer chains it (docs/token-log.md).
    chain: Mapped[str | None] = mapped_column(CHAIN_NAME, nullable=True, index=True)
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prev_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
