"""``stsvend vendors`` and ``stsvend terminals``: the vendors who sell through the sale-point
server, their prepaid floats, and their terminals' keys.

The use cases and their authorization are :mod:`stsvend.services.vendors` and
:mod:`stsvend.services.terminals`; this module parses, calls and renders.  A terminal's key is
printed once, when it is made or rotated, and never again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from stsvend_cli.common import Session, console, emit, json_option, money, table, with_session

__all__ = ["terminals", "vendors"]


def _as_doc(value: Any) -> Any:
    from stsvend.services.results import as_doc

    return as_doc(value)


def _show_vendor(v: dict[str, Any]) -> None:
    rates = ", ".join(f"{name} {bp / 100:g} %" for name, bp in v["commissions"].items())
    lines = [
        f"Vendor {v['code']} — {v['name']}" + ("  [TEST]" if v["test"] else ""),
        f"  float         {money(v['float'], v['currency'])}" + ("  (LOW)" if v["low"] else ""),
        f"  credit limit  {money(v['credit_limit'], v['currency'])}",
        f"  commission    {v['commission_bp'] / 100:g} %" + (f" ({rates})" if rates else ""),
    ]
    if v["low_float"] is not None:
        lines.append(f"  low float at  {money(v['low_float'], v['currency'])}")
    if not v["active"]:
        lines.append("  INACTIVE")
    click.echo("\n".join(lines))


@click.group()
def vendors() -> None:
    """Vendors (shops, agents, banks, switches): floats, deposits, commission, statements."""


@vendors.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The vendor's name.")
@click.option("--commission", default="0", show_default=True, metavar="PERCENT",
              help="Commission on each sale, in percent (e.g. 2.5).")  # fmt: skip
@click.option("--credit-limit", default="0", show_default=True, metavar="AMOUNT",
              help="How far below zero the float may go.")  # fmt: skip
@click.option("--low-float", default=None, metavar="AMOUNT",
              help="Report the float as low at or below this amount.")  # fmt: skip
@json_option
@with_session(keys=False, action="vendors.manage")
def vendors_add(sess: Session, code: str, name: str, commission: str, credit_limit: str,
                low_float: str | None, as_json: bool) -> None:  # fmt: skip
    """Register a vendor with an empty float (admin)."""
    from stsvend.services.vendors import add_vendor

    info = add_vendor(sess.svc, sess.actor, code, name=name, commission=commission,
                      credit_limit=credit_limit, low_float=low_float)  # fmt: skip
    emit(_as_doc(info), as_json, _show_vendor)


@vendors.command("list")
@json_option
@with_session(keys=False, action="vendors.view")
def vendors_list(sess: Session, as_json: bool) -> None:
    """List the vendors with their floats."""
    from stsvend.services.vendors import list_vendors

    rows = _as_doc(list_vendors(sess.svc, sess.actor))
    emit(rows, as_json, lambda found: console().print(table(
        "Vendors", ["code", "name", "float", "credit limit", "commission", "low", "TEST"],
        [[v["code"], v["name"], money(v["float"], v["currency"]),
          money(v["credit_limit"], v["currency"]), f"{v['commission_bp'] / 100:g} %",
          v["low"], "TEST" if v["test"] else ""] for v in found],
    )))  # fmt: skip


@vendors.command("show")
@click.argument("code")
@json_option
@with_session(keys=False, action="vendors.view")
def vendors_show(sess: Session, code: str, as_json: bool) -> None:
    """A vendor, its float and its commission."""
    from stsvend.services.vendors import vendor_info

    emit(_as_doc(vendor_info(sess.svc, sess.actor, code)), as_json, _show_vendor)


@vendors.command("commission")
@click.argument("code")
@click.argument("rate", metavar="PERCENT")
@click.option("--resource", default=None, help="Only for this resource (electricity, water, "
              "gas, time); PERCENT '-' removes that resource's own rate.")  # fmt: skip
@json_option
@with_session(keys=False, action="vendors.manage")
def vendors_commission(sess: Session, code: str, rate: str, resource: str | None,
                       as_json: bool) -> None:  # fmt: skip
    """Change a vendor's commission (admin)."""
    from stsvend.services.vendors import set_commission

    info = set_commission(sess.svc, sess.actor, code, rate, resource=resource)
    emit(_as_doc(info), as_json, _show_vendor)


@vendors.command("credit-limit")
@click.argument("code")
@click.argument("amount")
@json_option
@with_session(keys=False, action="vendors.manage")
def vendors_credit_limit(sess: Session, code: str, amount: str, as_json: bool) -> None:
    """Change how far below zero a vendor's float may go (admin)."""
    from stsvend.services.vendors import set_credit_limit

    emit(_as_doc(set_credit_limit(sess.svc, sess.actor, code, amount)), as_json, _show_vendor)


@vendors.command("deposit")
@click.argument("code")
@click.argument("amount")
@click.option("--reference", required=True, help="The bank's reference of the payment.")
@json_option
@with_session(keys=False, action="vendors.deposit")
def vendors_deposit(sess: Session, code: str, amount: str, reference: str,
                    as_json: bool) -> None:  # fmt: skip
    """Record money a vendor paid in to its float (supervisor)."""
    from stsvend.services.vendors import deposit

    moved = _as_doc(deposit(sess.svc, sess.actor, code, amount, reference=reference))
    emit(moved, as_json, lambda m: click.echo(
        f"Deposit {money(m['amount'], m['currency'])} to {m['vendor']} (ref {m['reference']}) "
        f"recorded by {m['recorded_by']}; float now {money(m['float_after'], m['currency'])}"
    ))  # fmt: skip


@vendors.command("statement")
@click.argument("code")
@click.option("--from", "since", default=None, metavar="YYYY-MM-DD", help="First day.")
@click.option("--to", "until", default=None, metavar="YYYY-MM-DD", help="Last day.")
@json_option
@with_session(keys=False, action="vendors.view")
def vendors_statement(sess: Session, code: str, since: str | None, until: str | None,
                      as_json: bool) -> None:  # fmt: skip
    """A vendor's float over a period: opening, every movement, closing."""
    from stsvend.services.vendors import statement

    doc = _as_doc(statement(sess.svc, sess.actor, code, since=since, until=until))

    def show(s: dict[str, Any]) -> None:
        cur = s["currency"]
        period = f"{s['since'] or 'the start'} to {s['until'] or 'now'}"
        console().print(table(
            f"Float statement {s['vendor']}, {period}",
            ["at", "entry", "amount", "sale", "reference", "by", "balance"],
            [[line["at"], line["entry"], money(line["amount"], cur), line["sale"],
              line["reference"], line["recorded_by"], money(line["balance"], cur)]
             for line in s["lines"]],
        ))  # fmt: skip
        click.echo(f"Opening {money(s['opening'], cur)}; closing {money(s['closing'], cur)}")

    emit(doc, as_json, show)


@vendors.command("settlement")
@click.argument("code")
@click.option("--day", required=True, metavar="YYYY-MM-DD",
              help="The day, in the store's time zone.")  # fmt: skip
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the CSV to this file (default: standard output).")  # fmt: skip
@with_session(keys=False, action="vendors.view")
def vendors_settlement(sess: Session, code: str, day: str, out: Path | None) -> None:
    """A vendor's settlement file for one day, as CSV: opening, every line, totals, closing
    (columns in docs/vendors.md)."""
    from stsvend.services.vendor_statements import settlement, settlement_csv

    text = settlement_csv(settlement(sess.svc, sess.actor, code, day), sess.svc.config.timezone)
    if out is None:
        click.echo(text, nl=False)
        return
    from stsvend.files import private_output

    with private_output(out) as handle:  # whole or not at all, readable by its owner only
        handle.write(text)
    click.echo(f"settlement of {code.strip().upper()} for {day} written to {out}", err=True)


@click.group()
def terminals() -> None:
    """A vendor's terminals and their API keys (shown once when made)."""


def _show_new_key(k: dict[str, Any]) -> None:
    click.echo(f"Terminal {k['vendor']}/{k['terminal']} ({k['role']}), key {k['prefix']}:")
    click.echo(k["key"])
    click.echo("Give this key to the terminal now: it is not stored and is never shown again.")


@terminals.command("add")
@click.argument("vendor")
@click.argument("terminal")
@click.option("--role", default="clerk", show_default=True,
              help="What its requests act as: clerk, supervisor, engineer, or installer "
                   "(an installer's system: work-order acknowledgements only).")  # fmt: skip
@json_option
@with_session(keys=False, action="vendors.manage")
def terminals_add(sess: Session, vendor: str, terminal: str, role: str, as_json: bool) -> None:
    """Add a terminal to a vendor and print its key, once (admin)."""
    from stsvend.services.terminals import add_terminal

    made = add_terminal(sess.svc, sess.actor, vendor, terminal, role=role)
    emit(_as_doc(made), as_json, _show_new_key)


@terminals.command("rotate")
@click.argument("vendor")
@click.argument("terminal")
@json_option
@with_session(keys=False, action="vendors.manage")
def terminals_rotate(sess: Session, vendor: str, terminal: str, as_json: bool) -> None:
    """Give a terminal a new key (the old one stops at once) and print it, once (admin)."""
    from stsvend.services.terminals import rotate_key

    emit(_as_doc(rotate_key(sess.svc, sess.actor, vendor, terminal)), as_json, _show_new_key)


@terminals.command("revoke")
@click.argument("vendor")
@click.argument("terminal")
@json_option
@with_session(keys=False, action="vendors.manage")
def terminals_revoke(sess: Session, vendor: str, terminal: str, as_json: bool) -> None:
    """Revoke a terminal's key for good (admin)."""
    from stsvend.services.terminals import revoke_terminal

    info = _as_doc(revoke_terminal(sess.svc, sess.actor, vendor, terminal))
    emit(info, as_json, lambda t: click.echo(
        f"Terminal {t['vendor']}/{t['terminal']} revoked at {t['revoked_at']}"
    ))  # fmt: skip


@terminals.command("bind")
@click.argument("vendor")
@click.argument("terminal")
@click.option("--cert", "cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The terminal's TLS client certificate (PEM).")  # fmt: skip
@click.option("--unbind", is_flag=True, help="Admit the terminal with any client certificate.")
@json_option
@with_session(keys=False, action="vendors.manage")
def terminals_bind(sess: Session, vendor: str, terminal: str, cert: str | None, unbind: bool,
                   as_json: bool) -> None:  # fmt: skip
    """Bind a terminal to its TLS client certificate: with mutual TLS, its key then works only
    over a connection showing that certificate (admin)."""
    from pathlib import Path

    from stsvend.errors import InputError
    from stsvend.services.terminals import bind_certificate

    if (cert is None) == (not unbind):
        raise InputError("give --cert FILE, or --unbind")
    pem = None if cert is None else Path(cert).read_text("ascii", errors="replace")
    info = _as_doc(bind_certificate(sess.svc, sess.actor, vendor, terminal, pem=pem))
    emit(info, as_json, lambda t: click.echo(
        f"Terminal {t['vendor']}/{t['terminal']}: "
        + (f"bound to the certificate SHA-256 {t['cert_sha256']}" if t["cert_sha256"]
           else "admitted with any client certificate")
    ))  # fmt: skip


@terminals.command("list")
@click.argument("vendor")
@json_option
@with_session(keys=False, action="vendors.view")
def terminals_list(sess: Session, vendor: str, as_json: bool) -> None:
    """A vendor's terminals: role, key prefix, state (never the keys)."""
    from stsvend.services.terminals import list_terminals

    rows = _as_doc(list_terminals(sess.svc, sess.actor, vendor))
    emit(rows, as_json, lambda found: console().print(table(
        f"Terminals of {vendor.upper()}", ["terminal", "role", "key", "active", "key set",
                                           "revoked"],
        [[t["terminal"], t["role"], t["prefix"], t["active"], t["key_set_at"], t["revoked_at"]]
         for t in found],
    )))  # fmt: skip
