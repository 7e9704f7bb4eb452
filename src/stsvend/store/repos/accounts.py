"""Customers (pseudonymous), accounts, tariffs and each account's month-to-date counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.errors import DuplicateRecordError, RecordNotFoundError
from stsvend.store.models import Account, AccountMonth, Customer, Tariff
from stsvend.store.sql import upsert
from stsvend.store.writes import stage

__all__ = [
    "AccountRecord",
    "MonthRecord",
    "TariffRecord",
    "add_account",
    "add_customer",
    "add_tariff",
    "close_account",
    "get_account",
    "get_customer_id",
    "get_month",
    "get_tariff",
    "get_tariff_by_id",
    "list_accounts",
    "list_customers",
    "list_tariffs",
    "open_account_of_meter",
    "put_month",
    "update_account",
]


@frozen
class TariffRecord:
    id: int
    code: str
    name: str
    definition: dict[str, Any]


@frozen
class AccountRecord:
    id: int
    contract_number: str
    customer_number: str
    meter_id: int
    tariff_id: int
    credit_balance: int
    debt: int
    debt_recovery_bp: int
    emergency_debt: int
    closed_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "contract": self.contract_number,
            "customer": self.customer_number,
            "credit_balance": self.credit_balance,
            "debt": self.debt,
            "debt_recovery_bp": self.debt_recovery_bp,
            "emergency_debt": self.emergency_debt,
            "open": self.closed_at is None,
        }


@frozen
class MonthRecord:
    units: int = 0
    fixed_charged: bool = False
    free_units_issued: bool = False
    free_issue_units: int = 0


def add_tariff(
    conn: Connection, code: str, name: str, definition: dict[str, Any], now: datetime
) -> TariffRecord:
    if conn.execute(select(Tariff.id).where(Tariff.code == code)).first():
        raise DuplicateRecordError(f"tariff {code!r} already exists")
    conn.execute(insert(Tariff).values(code=code, name=name, definition=definition, created_at=now))
    return get_tariff(conn, code)


def get_tariff(conn: Connection, code: str) -> TariffRecord:
    stmt = select(Tariff.id, Tariff.code, Tariff.name, Tariff.definition)
    row = conn.execute(stmt.where(Tariff.code == code)).first()
    if row is None:
        raise RecordNotFoundError(f"no tariff {code!r}")
    return TariffRecord(*row)


def get_tariff_by_id(conn: Connection, tariff_id: int) -> TariffRecord:
    stmt = select(Tariff.id, Tariff.code, Tariff.name, Tariff.definition)
    row = conn.execute(stmt.where(Tariff.id == tariff_id)).first()
    if row is None:
        raise RecordNotFoundError(f"no tariff #{tariff_id}")
    return TariffRecord(*row)


def list_tariffs(conn: Connection) -> list[TariffRecord]:
    stmt = select(Tariff.id, Tariff.code, Tariff.name, Tariff.definition).order_by(Tariff.code)
    return [TariffRecord(*r) for r in conn.execute(stmt)]


def add_customer(conn: Connection, customer_number: str, now: datetime) -> int:
    if conn.execute(select(Customer.id).where(Customer.customer_number == customer_number)).first():
        raise DuplicateRecordError(f"customer {customer_number!r} already exists")
    conn.execute(insert(Customer).values(customer_number=customer_number, created_at=now))
    return get_customer_id(conn, customer_number)


def get_customer_id(conn: Connection, customer_number: str) -> int:
    found: int | None = conn.execute(
        select(Customer.id).where(Customer.customer_number == customer_number)
    ).scalar()
    if found is None:
        raise RecordNotFoundError(f"no customer {customer_number!r}")
    return found


def list_customers(conn: Connection) -> list[str]:
    stmt = select(Customer.customer_number).order_by(Customer.customer_number)
    return list(conn.execute(stmt).scalars())


_ACCOUNT_COLUMNS = (
    Account.id,
    Account.contract_number,
    Customer.customer_number,
    Account.meter_id,
    Account.tariff_id,
    Account.credit_balance,
    Account.debt,
    Account.debt_recovery_bp,
    Account.emergency_debt,
    Account.closed_at,
)


def _accounts() -> Any:
    return select(*_ACCOUNT_COLUMNS).join(Customer, Customer.id == Account.customer_id)


def add_account(
    conn: Connection,
    *,
    contract_number: str,
    customer_id: int,
    meter_id: int,
    tariff_id: int,
    now: datetime,
    debt: int = 0,
    debt_recovery_bp: int = 0,
) -> AccountRecord:
    if conn.execute(select(Account.id).where(Account.contract_number == contract_number)).first():
        raise DuplicateRecordError(f"contract {contract_number!r} already exists")
    if open_account_of_meter(conn, meter_id) is not None:
        raise DuplicateRecordError("the meter already has an open account: close it first")
    conn.execute(
        insert(Account).values(
            contract_number=contract_number,
            customer_id=customer_id,
            meter_id=meter_id,
            tariff_id=tariff_id,
            credit_balance=0,
            debt=debt,
            debt_recovery_bp=debt_recovery_bp,
            emergency_debt=0,
            opened_at=now,
        )
    )
    return get_account(conn, contract_number)


def get_account(conn: Connection, contract_number: str) -> AccountRecord:
    row = conn.execute(_accounts().where(Account.contract_number == contract_number)).first()
    if row is None:
        raise RecordNotFoundError(f"no contract {contract_number!r}")
    return AccountRecord(*row)


_OPEN_OF_METER = (
    select(*_ACCOUNT_COLUMNS)
    .join(Customer, Customer.id == Account.customer_id)
    .where(Account.meter_id == bindparam("m"), Account.closed_at.is_(None))
)
_MONTH = select(
    AccountMonth.units,
    AccountMonth.fixed_charged,
    AccountMonth.free_units_issued,
    AccountMonth.free_issue_units,
).where(AccountMonth.account_id == bindparam("a"), AccountMonth.month == bindparam("m"))
_BALANCES = (
    update(Account)
    .where(Account.id == bindparam("aid"))
    .values(
        credit_balance=bindparam("credit_balance"),
        debt=bindparam("debt"),
        emergency_debt=bindparam("emergency_debt"),
    )
)


def open_account_of_meter(conn: Connection, meter_id: int) -> AccountRecord | None:
    row = conn.execute(_OPEN_OF_METER, {"m": meter_id}).first()
    return None if row is None else AccountRecord(**row._mapping)


def list_accounts(conn: Connection, *, customer_number: str | None = None) -> list[AccountRecord]:
    stmt = _accounts().order_by(Account.contract_number)
    if customer_number is not None:
        stmt = stmt.where(Customer.customer_number == customer_number)
    return [AccountRecord(*r) for r in conn.execute(stmt)]


def update_account(conn: Connection, account_id: int, **values: Any) -> None:
    """Change an account's columns (staged)."""
    if set(values) == {"credit_balance", "debt", "emergency_debt"}:
        stage(conn, _BALANCES, {"aid": account_id, **values})  # the vend's one statement
        return
    stage(conn, update(Account).where(Account.id == account_id).values(**values), {})


def close_account(conn: Connection, account_id: int, now: datetime) -> None:
    update_account(conn, account_id, closed_at=now)


def get_month(conn: Connection, account_id: int, month: str) -> MonthRecord:
    row = conn.execute(_MONTH, {"a": account_id, "m": month}).first()
    return MonthRecord() if row is None else MonthRecord(*row)


def _month_upsert(conn: Connection) -> Any:
    return upsert(
        conn.dialect,
        table_of(AccountMonth),
        ["account_id", "month"],
        ["units", "fixed_charged", "free_units_issued", "free_issue_units"],
    )


def _month_params(account_id: int, month: str, record: MonthRecord) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "month": month,
        "units": record.units,
        "fixed_charged": record.fixed_charged,
        "free_units_issued": record.free_units_issued,
        "free_issue_units": record.free_issue_units,
    }


def put_month(conn: Connection, account_id: int, month: str, record: MonthRecord) -> None:
    """Set the month's counters (staged)."""
    stage(conn, _month_upsert(conn), _month_params(account_id, month, record))
