"""What the registry's use cases answer: supply groups, meters, accounts and customers.

Each is a frozen value whose field names are the keys of its JSON form
(:func:`~stsvend.services.results.as_doc`), so the CLI's ``--json`` and the server's bodies
are the same document.  Money is in minor units of the store's currency, codes are text as
people read them (a supply group code has six digits).

>>> from stsvend.services.results import as_doc
>>> from stsvend.store.repos.groups import SupplyGroupRecord
>>> group = SupplyGroup.of(SupplyGroupRecord(7, 123456, "North", 2, 1, "02", "07", 2014, 255,
...                                          True))
>>> group.sgc, as_doc(group)["base_date"]
('123456', 2014)
>>> as_doc(MeterBlocked("01234567897", "blocked"))
{'drn': '01234567897', 'status': 'blocked'}
"""

from __future__ import annotations

from typing import Any

from attrs import evolve, frozen

from stsvend import sts
from stsvend.services.common import key_data_from_dict
from stsvend.store.repos.accounts import AccountRecord
from stsvend.store.repos.groups import SupplyGroupRecord
from stsvend.store.repos.keychanges import KeyChangeRecord
from stsvend.store.repos.meters import MeterRecord
from stsvend.vending.key_change import KeyChangeState

__all__ = [
    "Account",
    "Commissioning",
    "Customer",
    "KeyTarget",
    "Meter",
    "MeterAdded",
    "MeterBlocked",
    "MeterStatus",
    "OpenKeyChange",
    "OpenedAccount",
    "SupplyGroup",
]


@frozen
class SupplyGroup:
    """A supply group: the vending key revision its meters should be on."""

    #: The supply group code, six digits (``"123456"``).
    sgc: str
    #: A name for people.
    name: str
    #: The STS key type its meters' keys are made for (2: unique, 3: common).
    key_type: int
    #: The key revision number of its vending key (1-9).
    krn: int
    #: The decoder key generation algorithm, two digits (``"02"``, ``"04"``).
    dkga: str
    #: The encryption algorithm, two digits (``"07"``: STA, ``"11"``: MISTY1).
    ea: str
    #: The base date (year) of its TIDs (1993, 2014 or 2035).
    base_date: int
    #: The key expiry number (255: no expiry).
    ken: int
    #: Its vending key is a TEST key.
    test: bool

    @classmethod
    def of(cls, record: SupplyGroupRecord) -> SupplyGroup:
        return cls(
            f"{record.sgc:06d}", record.name, record.key_type, record.krn, record.dkga,
            record.ea, record.base_date, record.ken, record.test,
        )  # fmt: skip


def _meter_fields(record: MeterRecord) -> dict[str, Any]:
    return {
        "drn": record.drn,
        "iin": record.iin,
        "resource": sts.Resource(record.resource).name.lower(),
        "status": record.status,
        "sgc": f"{record.sgc:06d}",
        "ti": record.ti,
        "krn": record.krn,
        "key_type": record.key_type,
        "ea": record.ea,
        "base_date": record.base_date,
        "ken": record.ken,
        "dkga": record.dkga,
        "min_vend": record.min_vend,
        "max_vend": record.max_vend,
        "daily_limit": record.daily_limit,
    }


@frozen
class Meter:
    """A registered meter and the key data it is on now."""

    #: The decoder reference number (11 or 13 digits).
    drn: str
    #: The issuer identification number (``"600727"`` or ``"0000"``).
    iin: str
    #: What it meters: ``"electricity"``, ``"water"``, ``"gas"`` or ``"time"``.
    resource: str
    #: ``"active"`` or ``"blocked"`` (a blocked meter is sold no credit).
    status: str
    #: Its supply group code, six digits.
    sgc: str
    #: Its tariff index (0-99).
    ti: int
    #: The key revision number of its current key.
    krn: int
    #: The STS key type of its current key (1: default, 2: unique, 3: common).
    key_type: int
    #: The encryption algorithm, two digits (``"07"`` or ``"11"``).
    ea: str
    #: The base date (year) of its TIDs.
    base_date: int
    #: The key expiry number of its current key.
    ken: int
    #: The decoder key generation algorithm, two digits.
    dkga: str
    #: Its own smallest sale, minor units (None: the configured default).
    min_vend: int | None
    #: Its own largest sale, minor units (None: the configured default).
    max_vend: int | None
    #: Its own daily sales limit, minor units (None: the configured default).
    daily_limit: int | None

    @classmethod
    def of(cls, record: MeterRecord) -> Meter:
        return cls(**_meter_fields(record))


@frozen
class KeyTarget:
    """The key data a key change moves a meter to."""

    #: The supply group code, as a number.
    sgc: int
    #: The tariff index.
    ti: int
    #: The key revision number.
    krn: int
    #: The STS key type (2: unique, 3: common).
    key_type: int
    #: The encryption algorithm, two digits.
    ea: str
    #: The base date (year) of the TIDs.
    base_date: int
    #: The key expiry number.
    ken: int

    @classmethod
    def of(cls, data: sts.KeyData) -> KeyTarget:
        return cls(data.sgc, data.ti, data.krn, int(data.key_type), data.ea.value,
                   int(data.base_date), data.ken)  # fmt: skip


@frozen
class Commissioning:
    """The key change made at once for a meter registered on its default key."""

    #: Where the key change stands: pending until its tokens are printed.
    state: KeyChangeState
    #: The unique key the meter moves to.
    target: KeyTarget


@frozen
class MeterAdded:
    """A meter just registered."""

    #: The meter as registered.
    meter: Meter
    #: Its commissioning key change (None: it arrived on its unique key).
    commissioning: Commissioning | None


@frozen
class Account:
    """A customer's contract bound to a meter (the CRM's numbers only)."""

    #: The CRM's contract number.
    contract: str
    #: The CRM's customer number.
    customer: str
    #: Credit held on the account, minor units.
    credit_balance: int
    #: Arrears still to recover, minor units.
    debt: int
    #: Share of each purchase that recovers the debt, basis points (1500 = 15 %).
    debt_recovery_bp: int
    #: Emergency credit granted and not yet repaid, minor units.
    emergency_debt: int
    #: The account is open (not closed).
    open: bool

    @classmethod
    def of(cls, record: AccountRecord) -> Account:
        return cls(
            record.contract_number, record.customer_number, record.credit_balance, record.debt,
            record.debt_recovery_bp, record.emergency_debt, record.closed_at is None,
        )  # fmt: skip

    def closed(self) -> Account:
        """This account as it is once closed."""
        return evolve(self, open=False)


@frozen
class OpenedAccount(Account):
    """An account just opened, with the meter and tariff it was bound to."""

    #: The meter's DRN.
    meter: str
    #: The tariff code.
    tariff: str

    @classmethod
    def bound(cls, record: AccountRecord, meter: str, tariff: str) -> OpenedAccount:
        return cls(
            record.contract_number, record.customer_number, record.credit_balance, record.debt,
            record.debt_recovery_bp, record.emergency_debt, record.closed_at is None, meter,
            tariff,
        )  # fmt: skip


@frozen
class Customer:
    """A customer (the CRM's number) and every account of theirs, open or closed."""

    #: The CRM's customer number.
    customer: str
    #: Their accounts.
    accounts: tuple[Account, ...]


@frozen
class OpenKeyChange:
    """A meter's key change that is not finished (pending or issued)."""

    #: ``"pending"`` (tokens not printed yet) or ``"issued"`` (awaiting confirmation).
    state: KeyChangeState
    #: Why it was made (commissioning, a supply group job, …).
    reason: str
    #: The key data it moves the meter to.
    target: KeyTarget

    @classmethod
    def of(cls, change: KeyChangeRecord) -> OpenKeyChange:
        return cls(
            KeyChangeState(change.state),
            change.reason,
            KeyTarget.of(key_data_from_dict(change.new_key)),
        )


@frozen
class MeterStatus(Meter):
    """Everything about one meter: its record, last TIDs, open account and key change."""

    #: The last TID issued per base date (the year as text), in minutes since the base date.
    last_tids: dict[str, int]
    #: Its open account (None: none).
    account: Account | None
    #: Its unfinished key change (None: none).
    key_change: OpenKeyChange | None

    @classmethod
    def of_meter(
        cls,
        record: MeterRecord,
        tids: dict[int, int],
        account: AccountRecord | None,
        change: KeyChangeRecord | None,
    ) -> MeterStatus:
        return cls(
            **_meter_fields(record),
            last_tids={str(k): v for k, v in sorted(tids.items())},
            account=None if account is None else Account.of(account),
            key_change=None if change is None else OpenKeyChange.of(change),
        )


@frozen
class MeterBlocked:
    """A meter's status after it was blocked or unblocked."""

    #: The meter's DRN.
    drn: str
    #: ``"blocked"`` or ``"active"``.
    status: str
