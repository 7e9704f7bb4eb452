"""``stsvend keys``: import a key file, list the vending keys, change the key-encryption key.

The use cases and their authorization are :mod:`stsvend.services.keys`; this module parses,
calls and renders.  No key and no KEK is ever a command-line value: the KEKs come from the
environment (``STSVEND_KEK``…, and ``STSVEND_NEW_KEK``… for a change).
"""

from __future__ import annotations

from pathlib import Path

import click

from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    operator_options,
    session,
    table,
    with_session,
)

__all__ = ["keys"]


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
    STSVEND_KEK, STSVEND_KEK_FILE or STSVEND_KEK_PASSPHRASE.  A PRODUCTION key file that holds
    a published STS test key is refused.
    """
    from stsvend.services.keys import import_keys
    from stsvend.services.results import as_doc

    sess = session(operator, pin_env, keys=False)
    try:
        result = import_keys(sess.svc, sess.actor, key_file)
    finally:
        sess.close()
    emit(as_doc(result), as_json, lambda _: click.echo(
        f"{len(result.added)} key(s) added, {result.unchanged} already there"
        + (" (TEST keys)" if result.test else "")
    ))  # fmt: skip


@keys.command("list")
@json_option
@with_session()
def keys_list(sess: Session, as_json: bool) -> None:
    """List the vending keys: identity, DKGA, KCV, TEST mark; never key material."""
    from stsvend.services.keys import list_keys
    from stsvend.services.results import as_doc

    records = list_keys(sess.svc, sess.actor).keys
    emit(as_doc(records), as_json, lambda _: console().print(table(
        "Vending keys", ["key", "DKGA", "KCV", "base date", "KEN", "TEST", "label"],
        [[r.key_id, r.dkga, r.kcv, r.base_date or "any", r.ken or "",
          "TEST" if r.test else "", r.label] for r in records],
    )))  # fmt: skip


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
    from stsvend.services.keys import change_kek
    from stsvend.services.results import as_doc

    sess = session(operator, pin_env, keys=False)
    try:
        result = change_kek(sess.svc, sess.actor)
    finally:
        sess.close()
    emit(as_doc(result), as_json, lambda _: click.echo(
        f"key-encryption key changed: {result.keys} key(s) in {result.keystore} "
        f"({result.mode.value.upper()}) re-sealed under the new {result.kek} KEK; token log key "
        f"{result.log_key} unchanged"
    ))  # fmt: skip
