"""The sale-point tables: vendors, their float slots and float ledger, and their terminals.

Kept apart from the business tables of :mod:`stsvend.store.models` (which re-exports them).

* ``vendor_float`` holds a vendor's float in :data:`~stsvend.vending.floats.FLOAT_SLOTS` rows;
  ``ck_vendor_float_floor`` keeps every slot at or above its floor (its part of the credit
  limit), so no debit, from any process, ever takes a vendor below its limit.
* ``vendor_ledger`` is insert-only: every movement of a float (deposit, sale, commission,
  reversal) is a line, and a vendor's lines always sum to its slots' balances.
* ``terminal`` holds a terminal's API key only as a SHA-256 hash beside its public prefix.
* ``sale_advice`` holds a vendor's advice about one of its purchases: confirmed (the token was
  delivered) or reversed (it was not); one per sale, the first advice stands.
* ``terminal_session`` holds a person's session at a terminal (a login over the API) only as
  its token's SHA-256 hash.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from stsvend.store.base import Base, BigId, UtcDateTime

__all__ = [
    "FLOAT_FLOOR_CHECK",
    "SaleAdvice",
    "Terminal",
    "TerminalSession",
    "Vendor",
    "VendorCommission",
    "VendorFloat",
    "VendorLedger",
]

#: The name the database gives the floor check (``ck_`` + table + name, see store/base.py).
FLOAT_FLOOR_CHECK = "ck_vendor_float_floor"


class Vendor(Base):
    """A vendor: a shop chain, an agent, a bank or a mobile-money switch with a prepaid float."""

    __tablename__ = "vendor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The vendor's short code (letters, digits, ``-``), unique.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    #: Commission on a sale, in basis points (250 = 2.5 %), unless a resource has its own.
    commission_bp: Mapped[int] = mapped_column(Integer)
    #: How far below zero the float may go (minor units; 0: no credit).
    credit_limit: Mapped[int] = mapped_column(BigInteger)
    #: A float at or below this (minor units) is reported low; None: no alert.
    low_float: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean)
    test: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VendorCommission(Base):
    """A vendor's commission for one resource, where the utility pays differently by resource."""

    __tablename__ = "vendor_commission"
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), primary_key=True)
    #: The STS resource (0 electricity, 1 water, 2 gas, 3 time).
    resource: Mapped[int] = mapped_column(Integer, primary_key=True)
    commission_bp: Mapped[int] = mapped_column(Integer)


class VendorFloat(Base):
    """One slot of a vendor's float; the float is the sum of the vendor's slots."""

    __tablename__ = "vendor_float"
    __table_args__ = (CheckConstraint("balance >= floor", name="floor"),)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Minor units; negative down to ``floor`` where the vendor has credit.
    balance: Mapped[int] = mapped_column(BigInteger)
    #: This slot's part of the credit limit, as a balance (0 or negative).
    floor: Mapped[int] = mapped_column(BigInteger)


class VendorLedger(Base):
    """One movement of a vendor's float (insert-only; a vendor's lines sum to its float)."""

    __tablename__ = "vendor_ledger"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: ``deposit``, ``sale``, ``commission``, ``reversal``, ``commission_reversal``.
    entry: Mapped[str] = mapped_column(String(24))
    #: Minor units, signed: what the movement did to the float.
    amount: Mapped[int] = mapped_column(BigInteger)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sale.id"), nullable=True, index=True)
    #: A deposit's bank reference (or another document's number).
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: Who recorded it (an operator's username, or a terminal for a sale).
    recorded_by: Mapped[str] = mapped_column(String(64))


class Terminal(Base):
    """A vendor's terminal (a till, a switch's connection) and the hash of its API key."""

    __tablename__ = "terminal"
    __table_args__ = (UniqueConstraint("vendor_id", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    #: The operator role its sales act as (clerk, supervisor, engineer).
    role: Mapped[str] = mapped_column(String(16))
    #: The operator row its sales name (``VENDOR/TERMINAL``, never a person's login).
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operator.id"), nullable=True)
    #: The key's public part (it names the key in logs and finds the row).
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    #: SHA-256 of the whole key (domain-separated); the key itself is never stored.
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    key_set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: The SHA-256 (hex) of the TLS client certificate the terminal is bound to (None: any).
    cert_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SaleAdvice(Base):
    """A vendor's advice about one of its purchases (one per sale: the first one stands)."""

    __tablename__ = "sale_advice"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sale.id"), unique=True)
    #: ``confirmation`` (the token reached the customer) or ``reversal`` (it did not).
    kind: Mapped[str] = mapped_column(String(16))
    #: ``confirmed`` or ``reversed``.
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: The terminal that sent it (``VENDOR/TERMINAL``).
    terminal: Mapped[str] = mapped_column(String(64))
    #: A reversal advice's reversal sale (its receipt number).
    reversal_id: Mapped[int | None] = mapped_column(ForeignKey("sale.id"), nullable=True)


class TerminalSession(Base):
    """A person logged in at a terminal: what the terminal's requests carrying the session's
    token act as.  Rows are kept after the session ends (who was logged in where, and when)."""

    __tablename__ = "terminal_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: SHA-256 of the token (domain-separated); the token itself is never stored.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminal.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: The last request that used it (written at most about once a minute).
    last_used_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: The end of its longest life, however busy it is.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: When the person logged out (None: not ended by a logout).
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
