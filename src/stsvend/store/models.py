"""The tables of stsvend (SQLAlchemy 2 declarative models).

The uniqueness rules the product depends on live here, enforced by the database rather than by
process memory, so that any number of processes may vend at once:

* a TID is issued once per (meter, base date): ``uq_token_log_meter`` over
  (meter, base_date, tid), and ``meter_tid`` holds the last TID, updated under a row lock;
* a client request id is used once in its scope (the store's counters, or one vendor):
  ``uq_sale_scope_request_id`` (with the digest of the request's content, so that a repeat
  with other content is refused, not replayed);
* a reversal reverses one sale once: ``uq_sale_reversal_of``;
* a bulk key change touches a meter once: ``uq_key_change_job_id`` over (job_id, meter_id);
* one open shift per operator and terminal, one open key change per meter (partial indexes).

Money is an integer count of minor units; energy an integer count of tenths of the unit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from stsvend.store.base import Base, BigId, UtcDateTime
from stsvend.store.billing_models import MeteringPoint
from stsvend.store.log_models import (
    CHAIN_NAME,
    LogHead,
    LogSeal,
    LogSealedHead,
    LogSealEntry,
    OperationLog,
    SaleRecord,
    TokenLog,
)
from stsvend.store.notice_models import NoticeOptOut, NoticeOutbox, NoticeWatermark
from stsvend.store.reading_models import MeterReading, ReadingHead
from stsvend.store.vendor_models import (
    SaleAdvice,
    Terminal,
    TerminalSession,
    Vendor,
    VendorCommission,
    VendorFloat,
    VendorLedger,
)
from stsvend.store.workorder_models import (
    CreditTransfer,
    WorkOrder,
    WorkOrderOutbox,
    WorkOrderRoute,
    WorkOrderRun,
)
from stsvend.vending.key_change import OPEN_KEY_CHANGE_STATES

__all__ = [
    "CHAIN_NAME",
    "Account",
    "AccountMonth",
    "CreditTransfer",
    "Customer",
    "KeyChange",
    "KeyChangeJob",
    "LedgerEntry",
    "LogHead",
    "LogSeal",
    "LogSealEntry",
    "LogSealedHead",
    "Meter",
    "MeterReading",
    "MeterTid",
    "MeteringPoint",
    "NoticeOptOut",
    "NoticeOutbox",
    "NoticeWatermark",
    "OperationLog",
    "Operator",
    "ReadingHead",
    "Sale",
    "SaleAdvice",
    "SaleRecord",
    "Setting",
    "Shift",
    "SupplyGroup",
    "Tariff",
    "Terminal",
    "TerminalSession",
    "TokenLog",
    "Vendor",
    "VendorCommission",
    "VendorFloat",
    "VendorLedger",
    "WorkOrder",
    "WorkOrderOutbox",
    "WorkOrderRoute",
    "WorkOrderRun",
]

#: The longest key change reason stored (the longest made is well under it).
REASON_LENGTH = 200
#: The partial index's condition, from the one list of open key change states.
_OPEN_KEY_CHANGE = "state IN ({})".format(", ".join(f"'{s.value}'" for s in OPEN_KEY_CHANGE_STATES))


class Setting(Base):
    """Installation-wide facts (schema owner, keyset mode, log key check value)."""

    __tablename__ = "setting"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(512))


class SupplyGroup(Base):
    """A supply group and the key revision its meters should be on (keys stay in the keystore)."""

    __tablename__ = "supply_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sgc: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(100))
    #: Vending key type: 1 default (VDDK), 2 unique (VUDK), 3 common (VCDK).
    key_type: Mapped[int] = mapped_column(Integer)
    krn: Mapped[int] = mapped_column(Integer)
    dkga: Mapped[str] = mapped_column(String(2))
    ea: Mapped[str] = mapped_column(String(2))
    base_date: Mapped[int] = mapped_column(Integer)
    ken: Mapped[int] = mapped_column(Integer)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Tariff(Base):
    """A tariff: its definition is the vending domain's tariff as a JSON document."""

    __tablename__ = "tariff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Meter(Base):
    """A meter and the key data the vending side believes it holds."""

    __tablename__ = "meter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    drn: Mapped[str] = mapped_column(String(13), unique=True)
    iin: Mapped[str] = mapped_column(String(6))
    resource: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="active")
    sgc: Mapped[int] = mapped_column(Integer, index=True)
    ti: Mapped[int] = mapped_column(Integer)
    krn: Mapped[int] = mapped_column(Integer)
    key_type: Mapped[int] = mapped_column(Integer)
    ea: Mapped[str] = mapped_column(String(2))
    base_date: Mapped[int] = mapped_column(Integer)
    ken: Mapped[int] = mapped_column(Integer)
    dkga: Mapped[str] = mapped_column(String(2))
    #: Per-meter vend limits in minor units; NULL takes the configured default.
    min_vend: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_vend: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    daily_limit: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MeterTid(Base):
    """The last TID issued to a meter under one base date (updated under a row lock)."""

    __tablename__ = "meter_tid"
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    base_date: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_tid: Mapped[int] = mapped_column(Integer)


class Customer(Base):
    """A customer, pseudonymous: the CRM's customer number only (no name, no address)."""

    __tablename__ = "customer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_number: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Account(Base):
    """A contract binding a customer to a meter and a tariff; carries debt and emergency credit."""

    __tablename__ = "account"
    __table_args__ = (
        Index(
            "uq_account_open_meter",
            "meter_id",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"))
    tariff_id: Mapped[int] = mapped_column(ForeignKey("tariff.id"))
    #: Money kept for the customer: remainders of earlier sales, added to the next one.
    credit_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Arrears taken over from billing, recovered as a share of each purchase.
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    debt_recovery_bp: Mapped[int] = mapped_column(Integer, default=0)
    #: Emergency credit issued and not yet repaid (minor units).
    emergency_debt: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The CRM's premise number where the meter is installed (no address); NULL: not known.
    premise: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    #: The CRM's other numbers of the contract (``stsvend crm import``); NULL: not known.
    contract_account: Mapped[str | None] = mapped_column(String(40), nullable=True)
    installation: Mapped[str | None] = mapped_column(String(40), nullable=True)
    division: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: The device's equipment number in the CRM (the meter itself is ``meter_id``).
    equipment: Mapped[str | None] = mapped_column(String(40), nullable=True)
    #: The CRM's move-in date of the contract.
    move_in: Mapped[date | None] = mapped_column(Date, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AccountMonth(Base):
    """What an account bought in one calendar month of the utility's time zone."""

    __tablename__ = "account_month"
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    #: Units bought (and emergency credit) this month: the inclining blocks start from it.
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    fixed_charged: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The tariff's free basic units went out with this month's first token.
    free_units_issued: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Units given by supervisors' free issues this month (capped by policy).
    free_issue_units: Mapped[int] = mapped_column(BigInteger, default=0)


class Operator(Base):
    """A person who uses the system; the PIN is kept only as a salted scrypt hash."""

    __tablename__ = "operator"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    #: The PIN was set by someone else (or before the 6-digit minimum): the owner must choose
    #: a new one at the next login.
    must_change_pin: Mapped[bool] = mapped_column(Boolean, default=False)


class Shift(Base):
    """An operator's shift at a terminal; opened by PIN login, closed with totals."""

    __tablename__ = "shift"
    __table_args__ = (
        Index(
            "uq_shift_open",
            "operator_id",
            "terminal",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    terminal: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: Minor units the operator counted at the end (null: closed without a declaration).
    cash_counted: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The cash the system recorded for the shift when it closed (sales less refunds).
    cash_expected: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Sale(Base):
    """One business operation that hands something to a customer (its receipt number is the id).

    ``result`` is what the operation returned, kept so that a repeated request id gets the same
    answer without issuing again, and so that a reprint prints exactly what was issued.
    """

    __tablename__ = "sale"
    __table_args__ = (
        Index("ix_sale_meter_day", "meter_id", "local_day"),
        UniqueConstraint("scope", "request_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Whose request ids these are: 0 for the store's own counters, else the vendor's id (a
    #: vendor's purchase ids are its own; two vendors may use the same one).
    scope: Mapped[int] = mapped_column(Integer, default=0)
    request_id: Mapped[str] = mapped_column(String(64))
    #: The vendor whose terminal made the sale (None: a sale at the store's own counter).
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendor.id"), nullable=True)
    #: SHA-256 (hex) of the request's canonical content (stsvend.vending.requests); a repeat
    #: under the same id replays only with the same digest.  NULL: stored before digests.
    request_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    meter_id: Mapped[int | None] = mapped_column(ForeignKey("meter.id"), nullable=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shift.id"), nullable=True, index=True)
    terminal: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    local_day: Mapped[date] = mapped_column(Date, index=True)
    #: Money tendered (minor units), and units put on the meter (tenths).
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    #: VAT contained in the amount (a memo: prices include it).
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    reversal_of: Mapped[int | None] = mapped_column(
        ForeignKey("sale.id"), nullable=True, unique=True
    )
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


class LedgerEntry(Base):
    """One line of a sale's money breakdown; the lines of a sale sum to zero."""

    __tablename__ = "ledger_entry"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("sale.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    entry: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    units: Mapped[int] = mapped_column(BigInteger, default=0)


class KeyChangeJob(Base):
    """A key change for a whole supply group, worked in batches; resumable."""

    __tablename__ = "key_change_job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    sgc: Mapped[int] = mapped_column(Integer)
    #: ``rollover``, ``krn``, ``ken``, ``base_date``; and ``catch_up_of``: the job whose
    #: stragglers this one takes.
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: A :class:`~stsvend.vending.key_change.KeyChangeJobState` value.
    state: Mapped[str] = mapped_column(String(10))
    total: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class KeyChange(Base):
    """A key change of one meter: pending → issued → confirmed (or cancelled before issue)."""

    __tablename__ = "key_change"
    __table_args__ = (
        UniqueConstraint("job_id", "meter_id"),
        Index(
            "uq_key_change_open",
            "meter_id",
            unique=True,
            sqlite_where=text(_OPEN_KEY_CHANGE),
            postgresql_where=text(_OPEN_KEY_CHANGE),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("key_change_job.id"), nullable=True)
    #: A :class:`~stsvend.vending.key_change.KeyChangeState` value.
    state: Mapped[str] = mapped_column(String(10))
    #: Why, whole: the reasons (``rollover: base_date,krn``), or why a job skipped the meter.
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH))
    old_key: Mapped[dict[str, Any]] = mapped_column(JSON)
    new_key: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The key change set, in entry order: ``[{"digits": …, "subclass": 3}, …]``.
    tokens: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
