"""Supply groups, meters, customers and accounts.

A supply group names the vending key revision its meters use (the key itself stays in the
keystore: registering a group checks that the keystore holds it).  A meter is registered with
the key data it has: a new meter on its default key (``default_key=True``) gets a pending
commissioning key change to its unique key at once, so that its first receipt carries the key
change tokens before any credit.  Customers are pseudonymous: the CRM's customer number and
contract number, nothing else.

Each use case answers with a frozen value of :mod:`stsvend.services.registry_results` (named
here too); :func:`~stsvend.services.results.as_doc` gives its JSON form.
"""

from __future__ import annotations

from typing import Any

from stsvend import sts
from stsvend.errors import InputError
from stsvend.keystore.records import VendingKeyType
from stsvend.services.auth import authorize
from stsvend.services.common import load_meter
from stsvend.services.context import Actor, Services
from stsvend.services.issue import log_issued
from stsvend.services.keychange import make_change
from stsvend.services.keychange.commission import NOTE as COMMISSIONING_NOTE
from stsvend.services.keychange.commission import commissioning_keys
from stsvend.services.registry_results import (
    Account,
    Commissioning,
    Customer,
    KeyTarget,
    Meter,
    MeterAdded,
    MeterBlocked,
    MeterStatus,
    OpenedAccount,
    SupplyGroup,
)
from stsvend.store.repos import accounts as acc
from stsvend.store.repos import groups as grp
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos import meters as mtr
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.settings import get_setting, put_setting
from stsvend.tokenlog.writer import open_chains
from stsvend.vending.key_change import KeyChangeState, plan_key_change
from stsvend.vending.money import Money
from stsvend.vending.roles import Action

__all__ = [
    "Account",
    "Commissioning",
    "Customer",
    "KeyTarget",
    "Meter",
    "MeterAdded",
    "MeterBlocked",
    "MeterStatus",
    "OpenedAccount",
    "SupplyGroup",
    "add_group",
    "add_meter",
    "close_account",
    "list_accounts",
    "list_customers",
    "list_groups",
    "list_meters",
    "meter_status",
    "open_account",
    "set_limits",
    "set_meter_blocked",
]

_RESOURCES = {r.name.lower(): r for r in sts.Resource}


def _resource(value: str | int | sts.Resource) -> sts.Resource:
    if isinstance(value, str):
        try:
            return _RESOURCES[value.strip().lower()]
        except KeyError:
            raise InputError(
                f"resource must be one of {', '.join(_RESOURCES)}, got {value!r}"
            ) from None
    return sts.Resource(value)


def _oplog(svc: Services, conn: Any, actor: Actor, action: str, target: str, **detail: Any) -> None:
    log_operation(
        conn,
        at=svc.now(),
        operator=actor.username,
        terminal=actor.terminal,
        action=action,
        target=target,
        detail=detail,
    )


def check_keyset_mode(svc: Services, conn: Any) -> None:
    """Bind the store to the keystore's mode (TEST or PRODUCTION) and refuse the other."""
    mode = "test" if svc.hsm.test else "production"
    stored = get_setting(conn, "keyset_mode")
    if stored is None:
        put_setting(conn, "keyset_mode", mode)
    elif stored != mode:
        from stsvend.keystore.errors import KeystoreModeError

        raise KeystoreModeError(
            f"this store holds {stored.upper()} data; the open keystore is {mode.upper()}: "
            "TEST and PRODUCTION are never mixed (use another data directory)"
        )


# -- supply groups ----------------------------------------------------------------------------


def add_group(
    svc: Services,
    actor: Actor,
    sgc: int,
    *,
    name: str,
    krn: int = 1,
    key_type: str = "VUDK",
    base_date: int = 2014,
    ken: int = 255,
    ea: str = "07",
) -> SupplyGroup:
    """Register a supply group on a key revision the keystore holds."""
    authorize(svc, actor, Action.SUPPLY_GROUPS_MANAGE)
    kind = VendingKeyType.parse(key_type)
    data = sts.KeyData(
        sgc=sgc, ti=1, krn=krn, key_type=kind.key_type, ea=ea, base_date=base_date, ken=ken
    )
    record = svc.hsm.key_record_for(data)
    with svc.store.transaction() as conn:
        check_keyset_mode(svc, conn)
        group = grp.add_group(
            conn,
            svc.now(),
            sgc=data.sgc,
            name=name.strip() or f"SGC {data.sgc:06d}",
            key_type=int(data.key_type),
            krn=data.krn,
            dkga=record.dkga.value,
            ea=data.ea.value,
            base_date=int(data.base_date),
            ken=data.ken,
            test=record.test,
        )
        _oplog(svc, conn, actor, "supply-groups.add", f"{data.sgc:06d}", key=record.key_id)
    return SupplyGroup.of(group)


def list_groups(svc: Services, actor: Actor) -> tuple[SupplyGroup, ...]:
    authorize(svc, actor, Action.SUPPLY_GROUPS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(SupplyGroup.of(g) for g in grp.list_groups(conn))


# -- meters -----------------------------------------------------------------------------------


def add_meter(
    svc: Services,
    actor: Actor,
    drn: str,
    *,
    sgc: int,
    iin: str | None = None,
    resource: str | int = "electricity",
    ti: int = 1,
    default_key: bool = False,
    default_sgc: int | None = None,
    default_krn: int | None = None,
    request_id: str | None = None,
) -> MeterAdded:
    """Register a meter of supply group ``sgc``.

    ``default_key``: the meter arrives on its default key (KT 1, of ``default_sgc``/
    ``default_krn``, by default the group's own): a pending commissioning key change to its
    unique key is made at once.
    """
    authorize(svc, actor, Action.METERS_MANAGE)
    identity = sts.MeterIdentity.parse(iin, drn)
    kind = _resource(resource)
    now = svc.now()
    with svc.store.transaction() as conn:
        check_keyset_mode(svc, conn)
        group = grp.get_group(conn, sgc)
        default, unique = commissioning_keys(
            group, ti=ti, default_sgc=default_sgc, default_krn=default_krn
        )
        current = default if default_key else unique
        record = svc.hsm.key_record_for(current)
        meter = mtr.add_meter(conn, identity, kind, current, record.dkga.value, now)
        open_chains(conn, [meter.drn])
        commissioning = None
        if default_key:
            plan = plan_key_change(current, unique, now=now)
            svc.hsm.key_record_for(unique)
            row, issued = make_change(svc, meter, plan, now)
            kc.add_key_changes(conn, [row])
            log_issued(
                svc, conn, actor, meter.drn, issued,
                request_id=request_id or svc.new_request_id(), sale_id=None, now=now,
                note=COMMISSIONING_NOTE,
            )  # fmt: skip
            commissioning = Commissioning(KeyChangeState.PENDING, KeyTarget.of(unique))
        _oplog(
            svc, conn, actor, "meters.add", meter.drn, sgc=f"{group.sgc:06d}",
            default_key=default_key,
        )  # fmt: skip
    return MeterAdded(Meter.of(meter), commissioning)


def list_meters(
    svc: Services, actor: Actor, *, sgc: int | None = None, status: str | None = None
) -> tuple[Meter, ...]:
    authorize(svc, actor, Action.METERS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(Meter.of(m) for m in mtr.list_meters(conn, sgc=sgc, status=status))


def meter_status(svc: Services, actor: Actor, drn: str) -> MeterStatus:
    """Everything about one meter: key data, TIDs, account, open key change."""
    authorize(svc, actor, Action.METERS_VIEW)
    with svc.store.transaction() as conn:
        ctx = load_meter(conn, drn)
        account = acc.open_account_of_meter(conn, ctx.meter.id)
        tids = mtr.last_tids(conn, ctx.meter.id)
        change = ctx.key_change
    return MeterStatus.of_meter(ctx.meter, tids, account, change)


def set_meter_blocked(
    svc: Services, actor: Actor, drn: str, blocked: bool, reason: str
) -> MeterBlocked:
    authorize(svc, actor, Action.METERS_BLOCK)
    if not isinstance(reason, str) or len(reason.strip()) < 5:
        raise InputError("blocking or unblocking a meter needs a reason of at least 5 characters")
    with svc.store.transaction() as conn:
        ctx = load_meter(conn, drn)
        mtr.set_status(conn, ctx.meter.id, "blocked" if blocked else "active")
        _oplog(
            svc, conn, actor, "meters.block" if blocked else "meters.unblock", ctx.meter.drn,
            reason=reason.strip(),
        )  # fmt: skip
    return MeterBlocked(ctx.meter.drn, "blocked" if blocked else "active")


def set_limits(
    svc: Services,
    actor: Actor,
    drn: str,
    *,
    minimum: str | None,
    maximum: str | None,
    daily: str | None,
) -> Meter:
    """Set (or with None, return to the configured default) a meter's vend limits."""
    authorize(svc, actor, Action.METERS_MANAGE)
    cur = svc.config.currency

    def minor(text: str | None) -> int | None:
        return None if text is None else Money.parse(text, cur).minor

    with svc.store.transaction() as conn:
        ctx = load_meter(conn, drn)
        mtr.set_limits(
            conn, ctx.meter.id, min_vend=minor(minimum), max_vend=minor(maximum),
            daily_limit=minor(daily),
        )  # fmt: skip
        meter = mtr.get_meter(conn, ctx.meter.drn)
        from stsvend.services.common import meter_limits

        meter_limits(svc, meter, cur)  # refuse a set that makes no sense (min > max, …)
        _oplog(svc, conn, actor, "meters.limits", ctx.meter.drn, minimum=minimum,
               maximum=maximum, daily=daily)  # fmt: skip
    return Meter.of(meter)


# -- customers and accounts -------------------------------------------------------------------


def _number(text: str, what: str) -> str:
    value = text.strip() if isinstance(text, str) else ""
    if not value or len(value) > 40 or not all(c.isalnum() or c in "-_/." for c in value):
        raise InputError(
            f"a {what} is 1-40 letters, digits or -_/. (the CRM's number: no names here)"
        )
    return value


def open_account(
    svc: Services,
    actor: Actor,
    *,
    customer: str,
    contract: str,
    drn: str,
    tariff: str,
    debt: str = "0",
    debt_recovery_percent: str = "0",
) -> OpenedAccount:
    """Bind a (pseudonymous) customer's contract to a meter and a tariff."""
    authorize(svc, actor, Action.CUSTOMERS_MANAGE)
    from stsvend.plaintext import parse_fixed

    customer = _number(customer, "customer number")
    contract = _number(contract, "contract number")
    debt_minor = Money.parse(debt, svc.config.currency).minor
    bp = parse_fixed(debt_recovery_percent, 2, "debt recovery percent")
    if not 0 <= bp <= 10_000 or debt_minor < 0:
        raise InputError("debt is not negative and its recovery is 0-100 % (two decimals)")
    now = svc.now()
    with svc.store.transaction() as conn:
        ctx = load_meter(conn, drn)
        tariff_row = acc.get_tariff(conn, tariff)
        try:
            customer_id = acc.get_customer_id(conn, customer)
        except LookupError:
            customer_id = acc.add_customer(conn, customer, now)
        account = acc.add_account(
            conn, contract_number=contract, customer_id=customer_id, meter_id=ctx.meter.id,
            tariff_id=tariff_row.id, now=now, debt=debt_minor, debt_recovery_bp=int(bp),
        )  # fmt: skip
        _oplog(svc, conn, actor, "accounts.open", contract, meter=ctx.meter.drn, tariff=tariff)
    return OpenedAccount.bound(account, ctx.meter.drn, tariff)


def close_account(svc: Services, actor: Actor, contract: str) -> Account:
    authorize(svc, actor, Action.CUSTOMERS_MANAGE)
    with svc.store.transaction() as conn:
        account = acc.get_account(conn, _number(contract, "contract number"))
        if account.closed_at is not None:
            raise InputError(f"contract {contract} is already closed")
        acc.close_account(conn, account.id, svc.now())
        _oplog(svc, conn, actor, "accounts.close", contract)
    return Account.of(account).closed()


def list_customers(svc: Services, actor: Actor) -> tuple[Customer, ...]:
    authorize(svc, actor, Action.CUSTOMERS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(
            Customer(c, tuple(Account.of(a) for a in acc.list_accounts(conn, customer_number=c)))
            for c in acc.list_customers(conn)
        )


def list_accounts(svc: Services, actor: Actor) -> tuple[Account, ...]:
    authorize(svc, actor, Action.CUSTOMERS_VIEW)
    with svc.store.transaction() as conn:
        return tuple(Account.of(a) for a in acc.list_accounts(conn))
