"""``stsvend operators change-pin`` and ``stsvend operators unlock`` (with ``--break-glass``).

New PINs come from ``STSVEND_NEW_PIN`` (or the variable named by ``--new-pin-env``) or a hidden
prompt asked twice; the key-encryption key of the break-glass unlock from ``STSVEND_KEK``,
``STSVEND_KEK_FILE``, ``STSVEND_KEK_PASSPHRASE`` or a hidden prompt.  Neither is ever a
command-line value.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from stsvend_cli.common import (
    ENV_NEW_PIN,
    emit,
    json_option,
    open_services,
    operator_options,
    read_new_pin,
    read_pin,
)

if TYPE_CHECKING:
    from stsvend.keystore.kek import KekSource
    from stsvend.services.recovery import BreakGlassUnlock
    from stsvend_cli.common import Session

__all__ = ["operators_change_pin", "operators_unlock"]


def _new_pin(pin_env: str) -> str:
    from stsvend.errors import InputError

    new_pin = read_new_pin(pin_env)
    if new_pin is None:
        raise InputError(f"no new PIN: set {pin_env} or run the command at a terminal")
    return new_pin


def _kek() -> KekSource:
    """The KEK from the environment, else (at a terminal) a hidden prompt."""
    from stsvend.keystore.kek import ENV_KEK, ENV_KEK_FILE, ENV_KEK_PASSPHRASE, KekSource

    if any(os.environ.get(name) for name in (ENV_KEK, ENV_KEK_FILE, ENV_KEK_PASSPHRASE)):
        return KekSource.from_environment()
    if not sys.stdin.isatty():
        return KekSource.from_environment()  # says which variables to set
    text: str = click.prompt(
        "Key-encryption key (64 hex digits, or the passphrase)", hide_input=True
    )
    cleaned = text.strip()
    if len(cleaned) == 64 and all(c in "0123456789abcdefABCDEF" for c in cleaned):
        return KekSource.from_hex(cleaned)
    return KekSource.passphrase(text)


@click.command("change-pin")
@click.option(
    "--new-pin-env", default=ENV_NEW_PIN, show_default=True, metavar="VAR",
    help="Variable holding your new PIN (else a prompt, asked twice).",
)  # fmt: skip
@json_option
@operator_options
def operators_change_pin(
    new_pin_env: str, as_json: bool, operator: str | None, pin_env: str
) -> None:
    """Change your own PIN (any operator): the current one, then the new one."""
    from stsvend.errors import InputError
    from stsvend.services.auth import login

    if not operator:
        raise InputError("name the operator: --operator NAME (or STSVEND_OPERATOR)")
    svc = open_services(keys=False)
    try:
        actor = login(svc, operator, read_pin(pin_env), new_pin=_new_pin(new_pin_env))
    finally:
        svc.store.dispose()
    emit({"operator": actor.username, "pin_changed": True}, as_json,
         lambda d: click.echo(f"PIN of {d['operator']} changed"))  # fmt: skip


def _unlock_break_glass(username: str, set_pin: bool, new_pin_env: str) -> BreakGlassUnlock:
    from stsvend.services.recovery import break_glass_unlock

    kek = _kek()
    new_pin = _new_pin(new_pin_env) if set_pin else None
    svc = open_services(keys=False)
    try:
        return break_glass_unlock(svc, username, kek, new_pin=new_pin)
    finally:
        svc.store.dispose()


def _unlock_as_admin(
    sess: Session, username: str, set_pin: bool, new_pin_env: str
) -> dict[str, Any]:
    from stsvend.services.auth import set_pin as set_operator_pin
    from stsvend.services.auth import unlock_operator

    if set_pin:
        set_operator_pin(sess.svc, sess.actor, username, _new_pin(new_pin_env))
    unlock_operator(sess.svc, sess.actor, username)
    return {"operator": username, "pin_set": set_pin, "must_change_pin": True}


@click.command("unlock")
@click.argument("username")
@click.option(
    "--break-glass", is_flag=True,
    help="No admin can log in: prove the key-encryption key instead (see docs/security.md).",
)  # fmt: skip
@click.option(
    "--set-pin", is_flag=True,
    help="Also set a temporary PIN (from --new-pin-env or a prompt), for a forgotten PIN.",
)  # fmt: skip
@click.option("--new-pin-env", default=ENV_NEW_PIN, show_default=True, metavar="VAR")
@json_option
@operator_options
def operators_unlock(
    username: str, break_glass: bool, set_pin: bool, new_pin_env: str, as_json: bool,
    operator: str | None, pin_env: str,
) -> None:  # fmt: skip
    """Clear an operator's wrong-PIN lock; they choose a new PIN at their next login.

    As an admin, log in as usual.  With --break-glass nobody logs in: the installation's
    keystore must open under the KEK from STSVEND_KEK, STSVEND_KEK_FILE, STSVEND_KEK_PASSPHRASE
    or the prompt; the unlock is written to the operation log as "break-glass".
    """
    if break_glass:
        from stsvend.services.results import as_doc

        done = _unlock_break_glass(username, set_pin, new_pin_env)
        data, username, set_pin = as_doc(done), done.operator, done.pin_set
    else:
        from stsvend_cli.common import session

        other = new_pin_env if set_pin else None
        sess = session(operator, pin_env, keys=False, other_pin_env=other)
        try:
            data = _unlock_as_admin(sess, username, set_pin, new_pin_env)
        finally:
            sess.close()
    emit(data, as_json, lambda _: click.echo(
        f"operator {username} unlocked" + (" with a temporary PIN" if set_pin else "")
        + "; a new PIN is due at the next login"
        + (" (break-glass, in the operation log)" if break_glass else "")
    ))  # fmt: skip
