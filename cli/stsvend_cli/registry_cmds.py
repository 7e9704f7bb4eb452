"""``stsvend supply-groups``, ``meters``, ``customers``, ``tariffs``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from stsvend.services.results import as_doc
from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    money,
    read_text,
    table,
    whole,
    with_session,
)

if TYPE_CHECKING:
    from stsvend.services.importing import MeterImport
    from stsvend.services.registry import MeterAdded

__all__ = ["customers", "meters", "supply_groups", "tariffs"]


def _int(text: str, what: str, low: int, high: int) -> int:
    value = whole(text, what, low, high)
    assert value is not None  # these options have defaults
    return value


def _sgc(text: str) -> int:
    from stsvend import sts

    return sts.KeyData(sgc=text, ti=0, krn=1, key_type=2).sgc


# -- supply groups -----------------------------------------------------------------------------


@click.group("supply-groups")
def supply_groups() -> None:
    """Supply groups and the key revision their meters use."""


@supply_groups.command("add")
@click.argument("sgc")
@click.option("--name", default="", help="A name for people.")
@click.option("--krn", default="1", show_default=True)
@click.option("--key-type", default="VUDK", show_default=True, help="VUDK or VCDK")
@click.option("--base-date", default="2014", show_default=True)
@click.option("--ken", default="255", show_default=True)
@click.option("--ea", default="07", show_default=True, help="07 (STA) or 11 (MISTY1)")
@json_option
@with_session(action="supply-groups.manage")
def groups_add(
    sess: Session, sgc: str, name: str, krn: str, key_type: str, base_date: str, ken: str,
    ea: str, as_json: bool,
) -> None:  # fmt: skip
    """Register a supply group (its vending key must be in the keystore)."""
    from stsvend.services.registry import add_group

    group = add_group(sess.svc, sess.actor, _sgc(sgc), name=name, krn=_int(krn, "--krn", 1, 9),
                      key_type=key_type, base_date=_int(base_date, "--base-date", 0, 9999),
                      ken=_int(ken, "--ken", 0, 255), ea=ea)  # fmt: skip
    emit(as_doc(group), as_json, lambda _: click.echo(
        f"supply group {group.sgc} on KRN {group.krn} (DKGA{group.dkga}, base date "
        f"{group.base_date})" + (" TEST" if group.test else "")
    ))  # fmt: skip


@supply_groups.command("list")
@json_option
@with_session(keys=False, action="supply-groups.view")
def groups_list(sess: Session, as_json: bool) -> None:
    """List supply groups."""
    from stsvend.services.registry import list_groups

    rows = list_groups(sess.svc, sess.actor)
    emit(as_doc(rows), as_json, lambda _: console().print(table(
        "Supply groups", ["SGC", "name", "KRN", "KT", "DKGA", "EA", "base date", "KEN", "TEST"],
        [[g.sgc, g.name, g.krn, g.key_type, g.dkga, g.ea, g.base_date, g.ken,
          "TEST" if g.test else ""] for g in rows],
    )))  # fmt: skip


# -- meters ------------------------------------------------------------------------------------


@click.group()
def meters() -> None:
    """Meters: register, list, show, block, limits, import from a previous system."""


@meters.command("add")
@click.argument("drn")
@click.option("--sgc", required=True, help="Supply group.")
@click.option("--iin", default=None, help="600727 (default for 11 digits) or 0000.")
@click.option("--resource", default="electricity", show_default=True)
@click.option("--ti", default="1", show_default=True, help="Tariff index.")
@click.option("--default-key", is_flag=True, help="The meter arrives on its default key.")
@click.option("--default-sgc", default=None, help="SGC of its default key (default: --sgc).")
@click.option("--default-krn", default=None)
@json_option
@with_session(action="meters.manage")
def meters_add(
    sess: Session, drn: str, sgc: str, iin: str | None, resource: str, ti: str,
    default_key: bool, default_sgc: str | None, default_krn: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Register a meter; on --default-key, commissioning key change tokens are made at once."""
    from stsvend.services.registry import add_meter

    result = add_meter(
        sess.svc, sess.actor, drn, sgc=_sgc(sgc), iin=iin, resource=resource,
        ti=_int(ti, "--ti", 0, 99), default_key=default_key,
        default_sgc=None if default_sgc is None else _sgc(default_sgc),
        default_krn=whole(default_krn, "--default-krn", 1, 9),
    )  # fmt: skip

    def show(r: MeterAdded) -> None:
        m = r.meter
        click.echo(f"meter {m.drn} registered: SGC {m.sgc} KRN {m.krn} KT {m.key_type}")
        if r.commissioning:
            click.echo("commissioning key change pending: its tokens print on the first receipt")

    emit(as_doc(result), as_json, lambda _: show(result))


@meters.command("list")
@click.option("--sgc", default=None)
@click.option("--status", type=click.Choice(["active", "blocked"]), default=None)
@json_option
@with_session(keys=False, action="meters.view")
def meters_list(sess: Session, sgc: str | None, status: str | None, as_json: bool) -> None:
    """List meters."""
    from stsvend.services.registry import list_meters

    rows = list_meters(sess.svc, sess.actor, sgc=None if sgc is None else _sgc(sgc), status=status)
    emit(as_doc(rows), as_json, lambda _: console().print(table(
        "Meters", ["DRN", "resource", "status", "SGC", "KRN", "TI", "KT", "EA", "base date", "KEN"],
        [[m.drn, m.resource, m.status, m.sgc, m.krn, m.ti, m.key_type, m.ea, m.base_date, m.ken]
         for m in rows],
    )))  # fmt: skip


@meters.command("show")
@click.argument("drn")
@json_option
@with_session(keys=False, action="meters.view")
def meters_show(sess: Session, drn: str, as_json: bool) -> None:
    """Everything about one meter: key data, last TIDs, account, open key change."""
    from stsvend.services.registry import meter_status
    from stsvend_cli.registry_views import meter_rows

    data = meter_status(sess.svc, sess.actor, drn)
    emit(as_doc(data), as_json, lambda _: console().print(table(
        f"Meter {data.drn}", ["field", "value"], meter_rows(data, sess.svc.config)
    )))  # fmt: skip


def _block(sess: Session, drn: str, reason: str, blocked: bool, as_json: bool) -> None:
    from stsvend.services.registry import set_meter_blocked

    data = set_meter_blocked(sess.svc, sess.actor, drn, blocked, reason)
    emit(as_doc(data), as_json, lambda _: click.echo(f"meter {data.drn} is {data.status}"))


@meters.command("block")
@click.argument("drn")
@click.option("--reason", required=True)
@json_option
@with_session(keys=False, action="meters.block")
def meters_block(sess: Session, drn: str, reason: str, as_json: bool) -> None:
    """Block a meter: no credit is issued for it."""
    _block(sess, drn, reason, True, as_json)


@meters.command("unblock")
@click.argument("drn")
@click.option("--reason", required=True)
@json_option
@with_session(keys=False, action="meters.block")
def meters_unblock(sess: Session, drn: str, reason: str, as_json: bool) -> None:
    """Unblock a meter."""
    _block(sess, drn, reason, False, as_json)


@meters.command("limits")
@click.argument("drn")
@click.option("--min", "minimum", default=None, help="Minimum vend (major units).")
@click.option("--max", "maximum", default=None, help="Maximum vend.")
@click.option("--daily", default=None, help="Daily maximum.")
@json_option
@with_session(keys=False, action="meters.manage")
def meters_limits(
    sess: Session, drn: str, minimum: str | None, maximum: str | None, daily: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Set a meter's vend limits (a limit left out returns to the configured default)."""
    from stsvend.services.registry import set_limits

    data = set_limits(sess.svc, sess.actor, drn, minimum=minimum, maximum=maximum, daily=daily)
    from stsvend_cli.registry_views import limit_text

    config = sess.svc.config
    emit(as_doc(data), as_json, lambda _: click.echo(
        f"limits of {data.drn}: minimum {limit_text(data, 'min_vend', config)}, maximum "
        f"{limit_text(data, 'max_vend', config)}, daily {limit_text(data, 'daily_limit', config)}"
    ))  # fmt: skip


@meters.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@with_session(action="meters.import")
def meters_import(sess: Session, csv_file: Path, as_json: bool) -> None:
    """Import meters, key data and last TIDs from a previous system's CSV (all or nothing)."""
    from stsvend.services.importing import ImportError_, import_meters

    text = read_text(csv_file)
    try:
        data = import_meters(sess.svc, sess.actor, text)
    except ImportError_ as exc:
        # One line per problem, each with its line number; the count closes the list.
        for problem in exc.problems:
            click.echo(f"error: {csv_file.name}: {problem}", err=True)
        raise

    def show(d: MeterImport) -> None:
        click.echo(f"{d.rows} row(s): {d.added} meter(s) added, {d.updated} updated")
        for warning in d.warning_lines():
            click.echo(f"warning: {warning}", err=True)

    emit(as_doc(data), as_json, lambda _: show(data))


# -- customers and accounts --------------------------------------------------------------------


@click.group()
def customers() -> None:
    """Customers (pseudonymous: the CRM's numbers only) and their accounts."""


@customers.command("open-account")
@click.option("--customer", required=True, help="The CRM's customer number.")
@click.option("--contract", required=True, help="The CRM's contract number.")
@click.option("--meter", "drn", required=True)
@click.option("--tariff", required=True, help="Tariff code.")
@click.option("--debt", default="0", show_default=True, help="Arrears to recover.")
@click.option("--recovery", default="0", show_default=True, help="Percent of each purchase.")
@json_option
@with_session(keys=False, action="customers.manage")
def customers_open(
    sess: Session, customer: str, contract: str, drn: str, tariff: str, debt: str,
    recovery: str, as_json: bool,
) -> None:  # fmt: skip
    """Open an account: bind a contract to a meter and a tariff."""
    from stsvend.services.registry import open_account

    data = open_account(sess.svc, sess.actor, customer=customer, contract=contract, drn=drn,
                        tariff=tariff, debt=debt, debt_recovery_percent=recovery)  # fmt: skip
    emit(as_doc(data), as_json, lambda _: click.echo(
        f"account {data.contract} open: customer {data.customer}, meter {data.meter}, "
        f"tariff {data.tariff}"
    ))  # fmt: skip


@customers.command("close-account")
@click.argument("contract")
@json_option
@with_session(keys=False, action="customers.manage")
def customers_close(sess: Session, contract: str, as_json: bool) -> None:
    """Close an account.

    Arrears (debt, emergency credit not yet repaid) are no longer recovered from purchases
    once the account is closed, and credit left on it is no longer sold against: the command
    warns with the amounts, for them to be collected, refunded or written off.
    """
    from stsvend.services.registry import close_account

    data = close_account(sess.svc, sess.actor, contract)
    emit(as_doc(data), as_json, lambda _: click.echo(f"account {data.contract} closed"))
    from stsvend_cli.registry_views import closing_warnings

    for warning in closing_warnings(data, sess.svc.config.currency):
        click.echo(f"warning: {warning}", err=True)


@customers.command("list")
@json_option
@with_session(keys=False, action="customers.view")
def customers_list(sess: Session, as_json: bool) -> None:
    """List customers and their accounts."""
    from stsvend.services.registry import list_customers

    rows = list_customers(sess.svc, sess.actor)
    currency = sess.svc.config.currency
    emit(as_doc(rows), as_json, lambda _: console().print(table(
        "Customers", ["customer", "contract", "open", "debt", "emergency debt", "credit"],
        [[c.customer, a.contract, a.open, money(a.debt, currency),
          money(a.emergency_debt, currency), money(a.credit_balance, currency)]
         for c in rows for a in c.accounts],
    )))  # fmt: skip


# -- tariffs -----------------------------------------------------------------------------------


@click.group()
def tariffs() -> None:
    """Tariffs: flat or inclining blocks per month, VAT included, fixed charge, free units."""


@tariffs.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--price", default=None, help="Flat price per unit (VAT included).")
@click.option(
    "--block",
    "blocks",
    multiple=True,
    metavar="UP_TO:PRICE",
    help="Inclining block up to a monthly total in units; the last is :PRICE.",
)
@click.option("--tax", default="0", show_default=True, help="VAT percent (in the prices).")
@click.option("--fixed-charge", default="0", show_default=True, help="Monthly, first purchase.")
@click.option("--free-units", default="0", show_default=True, help="Free basic units a month.")
@click.option("--resource", default="electricity", show_default=True)
@click.option(
    "--emergency-units",
    default="0",
    show_default=True,
    help="Emergency credit per grant (units; 0 = none).",
)
@click.option(
    "--emergency-repay",
    default="100",
    show_default=True,
    help="Percent of later purchases that repays emergency credit.",
)
@json_option
@with_session(keys=False, action="tariffs.manage")
def tariffs_add(
    sess: Session, code: str, name: str, price: str | None, blocks: tuple[str, ...], tax: str,
    fixed_charge: str, free_units: str, resource: str, emergency_units: str,
    emergency_repay: str, as_json: bool,
) -> None:  # fmt: skip
    """Add a tariff (admin).  A tariff never changes: a new price is a new code."""
    from stsvend.errors import InputError
    from stsvend.plaintext import parse_fixed
    from stsvend.services.registry import _resource
    from stsvend.services.tariffs import add_tariff, parse_blocks

    def tenths(text: str, what: str) -> int:
        return parse_fixed(text, 1, what, max_whole_digits=9)

    repay_bp = parse_fixed(emergency_repay, 2, "emergency repayment percent")
    if repay_bp > 10_000:
        raise InputError("emergency repayment is 0 to 100 percent")
    data = add_tariff(
        sess.svc, sess.actor, code, name=name, blocks=parse_blocks(price, list(blocks)),
        tax_percent=tax, fixed_charge=fixed_charge,
        free_units=tenths(free_units, "free units"), resource=_resource(resource),
        emergency_units=tenths(emergency_units, "emergency units"),
        emergency_repayment_bp=repay_bp,
    )  # fmt: skip
    emit(as_doc(data), as_json, lambda _: click.echo(f"tariff {data.code} added: {data.name}"))


@tariffs.command("list")
@json_option
@with_session(keys=False, action="tariffs.view")
def tariffs_list(sess: Session, as_json: bool) -> None:
    """List tariffs."""
    from stsvend.services.tariffs import list_tariffs
    from stsvend_cli.registry_views import TARIFF_COLUMNS, tariff_row

    rows = list_tariffs(sess.svc, sess.actor)
    emit(as_doc(rows), as_json, lambda _: console().print(table(
        "Tariffs", TARIFF_COLUMNS, [tariff_row(t) for t in rows]
    )))  # fmt: skip


def _add_relay() -> None:
    from stsvend_cli.relay_cmds import relay

    meters.add_command(relay)


_add_relay()
