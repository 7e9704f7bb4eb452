"""``stsvend init``, ``db``, ``operators`` and ``shift`` (``keys``: :mod:`stsvend_cli.key_cmds`)."""

from __future__ import annotations

from typing import Any

import click

from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    load_config,
    log_in,
    operator_options,
    read_pin,
    table,
    with_session,
)

__all__ = ["db", "init", "operators", "shift"]


_IDENTITY_OPTIONS = (
    ("utility_name", "--utility-name", "The utility's name, printed on every receipt."),
    ("tax_number", "--tax-number", "The utility's tax (VAT) number, printed on every receipt."),
    ("currency", "--currency", "ISO 4217 code of every sale (fixed once the store sells)."),
    ("timezone", "--timezone", "IANA zone cutting days, months and shifts (fixed likewise)."),
)

#: What to do instead of `init` on a store that already has its operators.
EXISTING_STORE_HELP = (
    "this store already has its operators (its first admin was made by `stsvend init`). "
    "To add an admin, an admin runs `stsvend operators add NAME --role admin` (the new admin "
    "chooses a PIN at the first login); to upgrade the schema, `stsvend db upgrade`; to record "
    "or correct the utility's name or tax number, `stsvend init --operator ADMIN "
    "--utility-name NAME --tax-number NUMBER`"
)


def _identity_options(fn: Any) -> Any:
    for attr, flag, text in reversed(_IDENTITY_OPTIONS):
        fn = click.option(flag, attr, metavar="TEXT", help=text)(fn)
    return fn


def _wanted_identity(
    config: Any, stored: Any, given: dict[str, str | None], *, ask: bool
) -> Any:
    """The identity to keep: each value from its option, else the store, else the
    configuration (if it names it), else a prompt; None when nothing changes."""
    import sys

    from stsvend.errors import InputError
    from stsvend.services.identity import FIELDS, UtilityIdentity

    values: dict[str, str] = {}
    missing = []
    for attr, _, what in FIELDS:
        value = given.get(attr) or (getattr(stored, attr) if stored else None)
        if not value and config.source_of(attr):
            value = getattr(config, attr)
        if not value and ask and sys.stdin.isatty():
            value = click.prompt(f"The utility's {what}")
        if not value:
            missing.append(dict((a, f) for a, f, _ in _IDENTITY_OPTIONS)[attr])
        values[attr] = value or ""
    if missing:
        raise InputError(
            "a real store needs the utility's identity, kept in the store: give "
            + ", ".join(missing)
            + " (or run `stsvend init` at a terminal to be asked)"
        )
    return UtilityIdentity.parse(**values)


@click.command()
@click.option("--admin", "admin_name", metavar="NAME", help="Name of the first admin (new store).")
@_identity_options
@operator_options
@json_option
def init(
    admin_name: str | None,
    utility_name: str | None,
    tax_number: str | None,
    currency: str | None,
    timezone: str | None,
    operator: str | None,
    pin_env: str,
    as_json: bool,
) -> None:
    """Create a real store: the utility's identity and the first admin (or, logged in as an
    admin, upgrade it and correct the utility's name or tax number).

    The utility's name, tax number, currency and time zone are kept in the store; any not given
    as an option comes from the configuration, or is asked for at a terminal.  The admin's PIN
    comes from the variable named by --pin-env, or a prompt.  The TEST demo store is
    `stsvend demo`'s, never init's.
    """
    from stsvend.errors import InputError
    from stsvend.services.auth import authorize, bootstrap_admin
    from stsvend.services.bootstrap import open_services
    from stsvend.services.identity import apply_identity, read_identity, record_identity
    from stsvend.services.pin import check_new_pin
    from stsvend.services.results import as_doc
    from stsvend.store.repos.operators import count_operators
    from stsvend.vending.roles import Action

    given = {"utility_name": utility_name, "tax_number": tax_number, "currency": currency,
             "timezone": timezone}  # fmt: skip
    config = load_config()
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    svc = open_services(config, keys=False, migrate=True)
    try:
        with svc.store.transaction() as conn:
            fresh = count_operators(conn) == 0
            stored = read_identity(conn)
        if fresh:
            if not admin_name:
                raise InputError("a new store needs its first admin: --admin NAME")
            identity = _wanted_identity(svc.config, stored, given, ask=True)
            apply_identity(svc.config, identity)  # a contradicting configuration: refused now
            pin = check_new_pin(read_pin(pin_env, "New admin PIN"))
            record_identity(svc, admin_name, identity)
            bootstrap_admin(svc, admin_name, pin)
            who = admin_name
        else:
            if admin_name or not operator:
                raise InputError(EXISTING_STORE_HELP)
            actor = log_in(svc, operator, pin_env)
            authorize(svc, actor, Action.INIT)
            who = actor.username
            if any(given.values()) or stored is None:
                identity = _wanted_identity(svc.config, stored, given, ask=False)
                apply_identity(svc.config, identity)
                record_identity(svc, who, identity)
        from stsvend.store.migrate import current_revision

        with svc.store.transaction() as conn:
            kept = read_identity(conn)
        result = {
            "data_dir": str(config.data_dir),
            "database": svc.store.engine.url.render_as_string(hide_password=True),
            "revision": current_revision(svc.store.engine),
            "created_admin": admin_name if fresh else None,
            "by": who,
            "utility": as_doc(kept),
        }
    finally:
        svc.store.dispose()

    def show(r: dict[str, Any]) -> None:
        console().print(f"store ready: {r['database']} (schema {r['revision']})")
        if r["utility"]:
            u = r["utility"]
            console().print(
                f"utility: {u['utility_name']}, tax number {u['tax_number']}, "
                f"currency {u['currency']}, time zone {u['timezone']}"
            )
        if r["created_admin"]:
            console().print(f"first admin: {r['created_admin']}")

    emit(result, as_json, show)


@click.group()
def db() -> None:
    """Database schema: upgrade, check for drift, show the revision."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the code's schema (what init does)."""
    from stsvend.store.engine import make_engine
    from stsvend.store.migrate import current_revision, upgrade

    engine = make_engine(load_config().database_url)
    try:
        upgrade(engine)
        click.echo(f"schema at {current_revision(engine)}")
    finally:
        engine.dispose()


@db.command("check")
def db_check() -> None:
    """``alembic check``: fail if the models and the migrations differ."""
    from stsvend.store.engine import make_engine
    from stsvend.store.migrate import check

    engine = make_engine(load_config().database_url)
    try:
        check(engine)
        click.echo("no drift: the migrations match the models")
    finally:
        engine.dispose()


@db.command("current")
def db_current() -> None:
    """Show the database's schema revision and the code's head."""
    from stsvend.store.engine import make_engine
    from stsvend.store.migrate import current_revision, head_revision

    engine = make_engine(load_config().database_url)
    try:
        click.echo(f"database {current_revision(engine) or '(empty)'}, code {head_revision()}")
    finally:
        engine.dispose()


# -- operators ---------------------------------------------------------------------------------


@click.group()
def operators() -> None:
    """Operators and their roles (clerk, supervisor, engineer, auditor, admin)."""


@operators.command("add")
@click.argument("username")
@click.option("--role", required=True, help="clerk, supervisor, engineer, auditor or admin")
@click.option(
    "--new-pin-env", default="STSVEND_NEW_PIN", show_default=True, metavar="VAR",
    help="Variable holding the new operator's PIN (else a prompt).",
)  # fmt: skip
@with_session(keys=False, action="operators.manage")
def operators_add(sess: Session, username: str, role: str, new_pin_env: str) -> None:
    """Add an operator (admin); they choose their own PIN at their first login."""
    from stsvend.services.auth import add_operator

    add_operator(sess.svc, sess.actor, username, role, read_pin(new_pin_env, "New PIN"))
    click.echo(f"operator {username} added ({role})")


@operators.command("list")
@json_option
@with_session(keys=False, action="operators.view")
def operators_list(sess: Session, as_json: bool) -> None:
    """List operators (no PINs, ever)."""
    from stsvend.services.auth import list_operators
    from stsvend.services.results import as_doc

    rows = list_operators(sess.svc, sess.actor)
    emit(as_doc(rows), as_json, lambda _: console().print(table(
        "Operators", ["name", "role", "active", "failed logins", "new PIN due"],
        [[o.username, o.role, o.active, o.failed_logins, "yes" if o.must_change_pin else ""]
         for o in rows],
    )))  # fmt: skip


@operators.command("set-pin")
@click.argument("username")
@click.option("--new-pin-env", default="STSVEND_NEW_PIN", show_default=True, metavar="VAR")
@with_session(keys=False)
def operators_set_pin(sess: Session, username: str, new_pin_env: str) -> None:
    """Set an operator's PIN (admin; also unlocks after wrong PINs).

    Anyone else's PIN set this way must be changed by its owner at the next login.
    """
    from stsvend.services.auth import set_pin

    set_pin(sess.svc, sess.actor, username, read_pin(new_pin_env, "New PIN"))
    click.echo(f"PIN of {username} set")


@operators.command("disable")
@click.argument("username")
@with_session(keys=False, action="operators.manage")
def operators_disable(sess: Session, username: str) -> None:
    """Disable an operator (admin)."""
    from stsvend.services.auth import set_operator_active

    set_operator_active(sess.svc, sess.actor, username, False)
    click.echo(f"operator {username} disabled")


@operators.command("enable")
@click.argument("username")
@with_session(keys=False, action="operators.manage")
def operators_enable(sess: Session, username: str) -> None:
    """Enable an operator again (admin)."""
    from stsvend.services.auth import set_operator_active

    set_operator_active(sess.svc, sess.actor, username, True)
    click.echo(f"operator {username} enabled")


def _add_pin_commands() -> None:
    from stsvend_cli.pin_cmds import operators_change_pin, operators_unlock

    operators.add_command(operators_change_pin)
    operators.add_command(operators_unlock)


_add_pin_commands()


# -- shifts ------------------------------------------------------------------------------------


@click.group()
def shift() -> None:
    """Shifts: PIN login opens one at this terminal; ending it prints its totals."""


@shift.command("start")
@json_option
@with_session(keys=False, action="shift.start")
def shift_start(sess: Session, as_json: bool) -> None:
    """Open a shift for the operator at this terminal."""
    from stsvend.services.auth import start_shift

    actor = start_shift(sess.svc, sess.actor)
    data = {"shift": actor.shift_id, "operator": actor.username, "terminal": actor.terminal}
    emit(data, as_json, lambda d: click.echo(
        f"shift {d['shift']} open: {d['operator']} at terminal {d['terminal']}"
    ))  # fmt: skip


@shift.command("end")
@click.option(
    "--cash-counted", "cash_text", default=None, metavar="AMOUNT",
    help="The cash you counted (else you are asked for it at a terminal).",
)  # fmt: skip
@json_option
@with_session(keys=False, action="shift.end")
def shift_end(sess: Session, cash_text: str | None, as_json: bool) -> None:
    """Close the operator's shift: declare the cash counted, see the totals and the difference."""
    import sys

    from stsvend_cli.shift_report import close_shift, parse_cash, show_shift_report

    currency = sess.svc.config.currency
    if cash_text is None and sys.stdin.isatty():
        cash_text = click.prompt(f"Cash counted ({currency})")
    cash = None if cash_text is None else parse_cash(cash_text, currency)
    zone = sess.svc.config.zone
    emit(close_shift(sess.svc, sess.actor, cash), as_json,
         lambda report: show_shift_report(report, zone))  # fmt: skip


@shift.command("status")
@json_option
@with_session(keys=False)
def shift_status(sess: Session, as_json: bool) -> None:
    """Show the operator's open shift at this terminal, if any."""
    data = {
        "operator": sess.actor.username,
        "terminal": sess.actor.terminal,
        "shift": sess.actor.shift_id,
    }
    emit(data, as_json, lambda d: click.echo(
        f"{d['operator']} at {d['terminal']}: "
        + (f"shift {d['shift']} open" if d["shift"] else "no open shift")
    ))  # fmt: skip
