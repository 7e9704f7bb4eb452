"""``stsvend init``, ``db``, ``operators``, ``shift`` and ``keys``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    load_config,
    money,
    operator_options,
    read_pin,
    session,
    table,
    units,
    with_session,
)

if TYPE_CHECKING:
    from stsvend.keystore.kek import KekSource

__all__ = ["db", "init", "keys", "operators", "shift"]


@click.command()
@click.option("--admin", "admin_name", metavar="NAME", help="Name of the first admin (new store).")
@operator_options
@json_option
def init(admin_name: str | None, operator: str | None, pin_env: str, as_json: bool) -> None:
    """Create or upgrade the store; on a new store, create the first admin.

    The admin's PIN comes from the variable named by --pin-env, or a prompt.
    """
    from stsvend.errors import InputError
    from stsvend.services.auth import authorize, bootstrap_admin, login
    from stsvend.services.bootstrap import open_services
    from stsvend.store.repos.operators import count_operators
    from stsvend.vending.roles import Action

    config = load_config()
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    svc = open_services(config, keys=False, migrate=True)
    try:
        with svc.store.transaction() as conn:
            fresh = count_operators(conn) == 0
        if fresh:
            if not admin_name:
                raise InputError("a new store needs its first admin: --admin NAME")
            bootstrap_admin(svc, admin_name, read_pin(pin_env, "New admin PIN"))
            who = admin_name
        else:
            if not operator:
                raise InputError("the store exists: log in as an admin with --operator NAME")
            actor = login(svc, operator, read_pin(pin_env))
            authorize(svc, actor, Action.INIT)
            who = actor.username
        from stsvend.store.migrate import current_revision

        result = {
            "data_dir": str(config.data_dir),
            "database": svc.store.engine.url.render_as_string(hide_password=True),
            "revision": current_revision(svc.store.engine),
            "created_admin": admin_name if fresh else None,
            "by": who,
        }
    finally:
        svc.store.dispose()

    def show(r: dict[str, Any]) -> None:
        console().print(f"store ready: {r['database']} (schema {r['revision']})")
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
@with_session(keys=False)
def operators_add(sess: Session, username: str, role: str, new_pin_env: str) -> None:
    """Add an operator (admin)."""
    from stsvend.services.auth import add_operator

    add_operator(sess.svc, sess.actor, username, role, read_pin(new_pin_env, "New PIN"))
    click.echo(f"operator {username} added ({role})")


@operators.command("list")
@json_option
@with_session(keys=False)
def operators_list(sess: Session, as_json: bool) -> None:
    """List operators (no PINs, ever)."""
    from stsvend.services.auth import list_operators

    rows = list_operators(sess.svc, sess.actor)
    emit(rows, as_json, lambda r: console().print(table(
        "Operators", ["name", "role", "active", "failed logins"],
        [[o["username"], o["role"], o["active"], o["failed_logins"]] for o in r],
    )))  # fmt: skip


@operators.command("set-pin")
@click.argument("username")
@click.option("--new-pin-env", default="STSVEND_NEW_PIN", show_default=True, metavar="VAR")
@with_session(keys=False)
def operators_set_pin(sess: Session, username: str, new_pin_env: str) -> None:
    """Set an operator's PIN (admin; also unlocks after wrong PINs)."""
    from stsvend.services.auth import set_pin

    set_pin(sess.svc, sess.actor, username, read_pin(new_pin_env, "New PIN"))
    click.echo(f"PIN of {username} set")


@operators.command("disable")
@click.argument("username")
@with_session(keys=False)
def operators_disable(sess: Session, username: str) -> None:
    """Disable an operator (admin)."""
    from stsvend.services.auth import set_operator_active

    set_operator_active(sess.svc, sess.actor, username, False)
    click.echo(f"operator {username} disabled")


@operators.command("enable")
@click.argument("username")
@with_session(keys=False)
def operators_enable(sess: Session, username: str) -> None:
    """Enable an operator again (admin)."""
    from stsvend.services.auth import set_operator_active

    set_operator_active(sess.svc, sess.actor, username, True)
    click.echo(f"operator {username} enabled")


# -- shifts ------------------------------------------------------------------------------------


@click.group()
def shift() -> None:
    """Shifts: PIN login opens one at this terminal; ending it prints its totals."""


@shift.command("start")
@json_option
@with_session(keys=False)
def shift_start(sess: Session, as_json: bool) -> None:
    """Open a shift for the operator at this terminal."""
    from stsvend.services.auth import start_shift

    actor = start_shift(sess.svc, sess.actor)
    data = {"shift": actor.shift_id, "operator": actor.username, "terminal": actor.terminal}
    emit(data, as_json, lambda d: click.echo(
        f"shift {d['shift']} open: {d['operator']} at terminal {d['terminal']}"
    ))  # fmt: skip


def _totals_table(title: str, rows: list[dict[str, Any]], currency: str) -> Any:
    return table(
        title,
        ["kind", "count", "amount", "units", "reversed", "TEST"],
        [
            [r["kind"], r["count"], money(r["amount"], currency), units(r["units"], ""),
             r["reversed"], r["test"] or ""]
            for r in rows
        ],
    )  # fmt: skip


@shift.command("end")
@json_option
@with_session(keys=False)
def shift_end(sess: Session, as_json: bool) -> None:
    """Close the operator's shift and print its totals."""
    from stsvend.services.auth import end_shift
    from stsvend.services.logs import latest_anchor

    report = end_shift(sess.svc, sess.actor)
    # The latest seal's MAC, for the shift report: kept on paper or by the auditor, it is the
    # anchor `stsvend log verify --anchor` checks the log against (docs/token-log.md).
    report["anchor"] = latest_anchor(sess.svc)
    currency = sess.svc.config.currency

    def show(r: dict[str, Any]) -> None:
        console().print(
            f"shift {r['shift']} closed: {r['operator']} at {r['terminal']}, "
            f"{r['opened_at']} - {r['closed_at']}"
        )
        console().print(_totals_table("Shift totals", r["totals"], currency))
        anchor = r["anchor"]
        console().print(
            "token log anchor: none yet" if anchor is None
            else f"token log anchor (seal {anchor['seal']}, {anchor['at']}): {anchor['mac']}"
        )  # fmt: skip

    emit(report, as_json, show)


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


# -- keys --------------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Vending keys: import a key file, list the keys (never their material), change the KEK."""


@keys.command("import")
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@operator_options
def keys_import(key_file: Path, as_json: bool, operator: str | None, pin_env: str) -> None:
    """Import a key file (KCVs checked) into the sealed keystore (admin).

    The keystore is created on first use, sealed under the key-encryption key from
    STSVEND_KEK, STSVEND_KEK_FILE or STSVEND_KEK_PASSPHRASE.
    """
    from stsvend.keystore import KekSource, SealedKeystore, load_key_file
    from stsvend.keystore.errors import KeystoreModeError
    from stsvend.services.auth import authorize
    from stsvend.services.bootstrap import create_keystore, keystore_path
    from stsvend.store.repos.oplog import log_operation
    from stsvend.store.repos.settings import get_setting
    from stsvend.vending.roles import Action

    sess = session(operator, pin_env, keys=False)
    try:
        authorize(sess.svc, sess.actor, Action.KEYS_IMPORT)
        parsed = load_key_file(key_file)
        config = sess.svc.config
        with sess.svc.store.transaction() as conn:
            mode = get_setting(conn, "keyset_mode")
        if mode is not None and (mode == "test") is not parsed.test:
            raise KeystoreModeError(
                f"this store holds {mode.upper()} data: a "
                f"{'TEST' if parsed.test else 'PRODUCTION'} key file cannot be used with it"
            )
        create_keystore(config, test=parsed.test)
        store = SealedKeystore.open(keystore_path(config), KekSource.from_environment())
        result = store.import_key_file(parsed)
        with sess.svc.store.transaction() as conn:
            log_operation(
                conn, at=sess.svc.now(), operator=sess.actor.username,
                terminal=sess.actor.terminal, action="keys.import",
                detail={"added": [r.key_id for r in result.records], "unchanged": result.unchanged},
            )  # fmt: skip
    finally:
        sess.close()
    data = {
        "added": [r.as_dict() for r in result.records],
        "unchanged": result.unchanged,
        "test": parsed.test,
    }
    emit(data, as_json, lambda d: click.echo(
        f"{len(d['added'])} key(s) added, {d['unchanged']} already there"
        + (" (TEST keys)" if d["test"] else "")
    ))  # fmt: skip


@keys.command("list")
@json_option
@with_session()
def keys_list(sess: Session, as_json: bool) -> None:
    """List the vending keys: identity, DKGA, KCV, TEST mark; never key material."""
    from stsvend.services.auth import authorize
    from stsvend.vending.roles import Action

    authorize(sess.svc, sess.actor, Action.KEYS_LIST)
    records = [r.as_dict() for r in sess.svc.hsm.key_records()]
    emit(records, as_json, lambda rows: console().print(table(
        "Vending keys", ["key", "DKGA", "KCV", "base date", "KEN", "TEST", "label"],
        [[r["key_id"], r["dkga"], r["kcv"], r["base_date"] or "any", r["ken"] or "",
          "TEST" if r["test"] else "", r["label"]] for r in rows],
    )))  # fmt: skip


ENV_NEW_KEK = "STSVEND_NEW_KEK"
ENV_NEW_KEK_FILE = "STSVEND_NEW_KEK_FILE"
ENV_NEW_KEK_PASSPHRASE = "STSVEND_NEW_KEK_PASSPHRASE"


def new_kek_from_environment(environ: Mapping[str, str] | None = None) -> KekSource:
    """The new KEK named by exactly one of STSVEND_NEW_KEK, STSVEND_NEW_KEK_FILE and
    STSVEND_NEW_KEK_PASSPHRASE (the same rules as the current KEK's variables)."""
    import os

    from stsvend.keystore.errors import KekError
    from stsvend.keystore.kek import KekSource

    env = os.environ if environ is None else environ
    names = (ENV_NEW_KEK, ENV_NEW_KEK_FILE, ENV_NEW_KEK_PASSPHRASE)
    present = [name for name in names if env.get(name)]
    if not present:
        raise KekError(
            f"no new key-encryption key: set exactly one of {ENV_NEW_KEK} (64 hex digits), "
            f"{ENV_NEW_KEK_FILE} or {ENV_NEW_KEK_PASSPHRASE}; nothing was changed"
        )
    if len(present) > 1:
        raise KekError(f"set only one of {', '.join(present)}; nothing was changed")
    name = present[0]
    if name == ENV_NEW_KEK:
        try:
            return KekSource.from_hex(env[name])
        except KekError:
            raise KekError(f"{ENV_NEW_KEK} must be 64 hexadecimal digits") from None
    if name == ENV_NEW_KEK_FILE:
        return KekSource.from_file(env[name])
    try:
        return KekSource.passphrase(env[name])
    except KekError as exc:
        raise KekError(f"{ENV_NEW_KEK_PASSPHRASE}: {exc.message}") from None


@keys.command("change-kek")
@json_option
@operator_options
def keys_change_kek(as_json: bool, operator: str | None, pin_env: str) -> None:
    """Re-seal the keystore under a new key-encryption key (admin).

    The current KEK comes from STSVEND_KEK, STSVEND_KEK_FILE or STSVEND_KEK_PASSPHRASE; the new
    one from exactly one of STSVEND_NEW_KEK, STSVEND_NEW_KEK_FILE or STSVEND_NEW_KEK_PASSPHRASE.
    The keystore file is replaced atomically: it opens under the old KEK or the new one, never
    neither. The token log's key is sealed inside it, so the log still verifies.
    """
    import hmac

    from stsvend.keystore import KekSource, SealedKeystore
    from stsvend.keystore.errors import KekError, KeystoreFileError, KeystoreModeError
    from stsvend.services.auth import authorize
    from stsvend.services.bootstrap import (
        LogKeyMismatch,
        demo_keystore_path,
        keystore_path,
        log_key_of,
    )
    from stsvend.store.repos.oplog import log_operation
    from stsvend.store.repos.settings import get_setting
    from stsvend.vending.roles import Action

    sess = session(operator, pin_env, keys=False)
    try:
        # No action of its own in the permission table: changing the KEK is key custody, the
        # same duty as importing keys (admin only).
        authorize(sess.svc, sess.actor, Action.KEYS_IMPORT)
        config = sess.svc.config
        path = keystore_path(config)
        if not path.exists():
            if demo_keystore_path(config).exists():
                raise KeystoreModeError(
                    "this installation has only the TEST demo keystore, whose key-encryption key "
                    "is generated and kept beside it: there is no KEK to change (import a key "
                    "file under your own KEK with `stsvend keys import`)"
                )
            raise KeystoreFileError(
                f"no keystore at {path}: import a key file first (`stsvend keys import`)"
            )
        new_kek = new_kek_from_environment()
        current_kek = KekSource.from_environment()
        if new_kek.kind == current_kek.kind and hmac.compare_digest(
            new_kek.material(), current_kek.material()
        ):
            raise KekError("the new key-encryption key is the one in use; nothing was changed")
        store = SealedKeystore.open(path, current_kek)  # a wrong KEK stops here: nothing written
        log_key = log_key_of(store)
        with sess.svc.store.transaction() as conn:
            stored = get_setting(conn, "log_key_check")
        if stored is not None and stored != log_key.check_value:
            raise LogKeyMismatch(
                f"the token log of this store was written under log key {stored}, the keystore "
                f"{path} gives {log_key.check_value}: wrong keystore; nothing was changed"
            )
        store.change_kek(new_kek)
        # Read it back under the new KEK: every key and the log key must open.
        reopened = SealedKeystore.open(path, new_kek)
        after = log_key_of(reopened)
        if after.check_value != log_key.check_value:  # pragma: no cover - change_kek keeps it
            raise LogKeyMismatch("the token log key changed with the KEK: restore the backup")
        with sess.svc.store.transaction() as conn:
            log_operation(
                conn, at=sess.svc.now(), operator=sess.actor.username,
                terminal=sess.actor.terminal, action="keys.change-kek", target=path.name,
                detail={"from": current_kek.kind, "to": new_kek.kind, "keys": len(reopened),
                        "mode": reopened.mode.value, "log_key": after.check_value},
            )  # fmt: skip
    finally:
        sess.close()
    data = {
        "changed": True,
        "keystore": str(path),
        "mode": reopened.mode.value,
        "keys": len(reopened),
        "kek": new_kek.kind,
        "log_key": after.check_value,
    }
    emit(data, as_json, lambda d: click.echo(
        f"key-encryption key changed: {d['keys']} key(s) in {d['keystore']} "
        f"({d['mode'].upper()}) re-sealed under the new {d['kek']} KEK; token log key "
        f"{d['log_key']} unchanged"
    ))  # fmt: skip
