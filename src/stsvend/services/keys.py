"""Key custody use cases: import a key file, list the vending keys, change the KEK.

Each takes the :class:`~stsvend.services.context.Services` and the logged-in
:class:`~stsvend.services.context.Actor`, checks the actor's role first (the permission table
of :mod:`stsvend.vending.roles`; a refusal is in the operation log), and returns a frozen
value.  The key-encryption keys come from the environment (``env``, default the process's) by
:func:`~stsvend.keystore.kek.kek_from_env`: the installation's under ``STSVEND_``, the one a
change moves to under ``STSVEND_NEW_``.  No key material is ever returned or logged; keys are
named by ``SGC/KRN/TYPE`` and KCV.

``import_keys`` and ``change_kek`` need services opened without the keystore
(``open_services(..., keys=False)``): the keystore may not exist yet, or is about to change.
``list_keys`` needs the security module (``keys=True``).

A key is shown as a :class:`VendingKey`, its record without material:

>>> from stsvend.keystore.records import KeyRecord
>>> from stsvend.services.results import as_doc
>>> key = VendingKey.of(KeyRecord(123456, 1, "02", "VUDK", "a1b2c3", True, base_date=2014))
>>> key.key_id, as_doc(key)["sgc"], as_doc(key)["base_date"]
('123456/1/VUDK', '123456', 2014)
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from stsvend.keystore.errors import (
    KekError,
    KeystoreFileError,
    KeystoreModeError,
    PublishedTestKeyError,
)
from stsvend.keystore.kek import ENV_KEK_FILE, ENV_NEW_PREFIX, KekSource, kek_from_env
from stsvend.keystore.keyfile import load_key_file
from stsvend.keystore.records import KeyRecord
from stsvend.keystore.sealed import KeystoreMode, SealedKeystore
from stsvend.services.auth import authorize
from stsvend.services.bootstrap import (
    LogKeyMismatch,
    check_kek_file_location,
    create_keystore,
    demo_keystore_path,
    keystore_path,
    log_key_of,
)
from stsvend.services.context import Actor, Services
from stsvend.store.repos.oplog import log_operation
from stsvend.store.repos.settings import get_setting
from stsvend.vending.roles import Action

__all__ = [
    "KekChangeResult",
    "KeyImportResult",
    "KeyListing",
    "VendingKey",
    "change_kek",
    "import_keys",
    "list_keys",
    "new_kek_from_env",
]


@frozen
class VendingKey:
    """A vending key as listings show it: identity, algorithm and KCV, never its material."""

    #: ``SGC/KRN/TYPE``, how people and logs name the key (``"123456/1/VUDK"``).
    key_id: str
    #: The supply group code, six digits.
    sgc: str
    #: The key revision number (1-9).
    krn: int
    #: The decoder key generation algorithm, two digits (``"02"``, ``"04"``).
    dkga: str
    #: ``"VUDK"``, ``"VDDK"``, ``"VCDK"`` or ``"VITK"``.
    vending_key_type: str
    #: The key check value, hex.
    kcv: str
    #: A TEST key.
    test: bool
    #: The key expiry number given with the key (None: none given).
    ken: int | None
    #: The only base date (year) it serves (None: any).
    base_date: int | None
    #: The key file's label for it.
    label: str

    @classmethod
    def of(cls, record: KeyRecord) -> VendingKey:
        return cls(
            record.key_id, f"{record.sgc:06d}", record.krn, record.dkga.value,
            record.vending_key_type.value, record.kcv, record.test, record.ken,
            None if record.base_date is None else int(record.base_date), record.label,
        )  # fmt: skip


@frozen
class KeyImportResult:
    """What ``keys import`` did."""

    #: The keys now in the keystore that were not before, by key id.
    added: tuple[VendingKey, ...]
    #: Keys of the file already there with the same KCV (importing twice is harmless).
    unchanged: int
    #: The file (and so the keystore) holds TEST keys.
    test: bool


@frozen
class KeyListing:
    """The vending keys of the open keystore (``keys list`` shows ``keys`` alone)."""

    #: The keys, sorted by key id.
    keys: tuple[VendingKey, ...]
    #: A TEST keystore.
    test: bool


@frozen
class KekChangeResult:
    """What ``keys change-kek`` did."""

    #: The keystore file re-sealed.
    keystore: str
    #: ``"test"`` or ``"production"``.
    mode: KeystoreMode
    #: How many vending keys it holds.
    keys: int
    #: The kind of the new KEK (``"raw"`` or ``"passphrase"``).
    kek: str
    #: The token log key's check value, the same before and after.
    log_key: str
    #: Always True: a change that cannot be made raises, with nothing changed.
    changed: bool = True


def _log(
    svc: Services,
    actor: Actor,
    action: str,
    detail: dict[str, Any],
    *,
    outcome: str = "ok",
    target: str | None = None,
) -> None:
    with svc.store.transaction() as conn:
        log_operation(
            conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
            action=action, outcome=outcome, target=target, detail=detail,
        )  # fmt: skip


def import_keys(
    svc: Services, actor: Actor, key_file: str | Path, *, env: Mapping[str, str] | None = None
) -> KeyImportResult:
    """Import a key file (KCVs checked) into the installation's sealed keystore (admin).

    The keystore is created on first use, TEST or PRODUCTION as the file is, sealed under the
    installation's KEK.  Refused, with nothing written: a file of the other mode than the
    store's data, and a PRODUCTION file holding a published test key (logged as refused).
    """
    authorize(svc, actor, Action.KEYS_IMPORT)
    try:
        parsed = load_key_file(key_file)
    except PublishedTestKeyError as exc:
        _log(svc, actor, "keys.import", {"code": exc.code, "reason": exc.message},
             outcome="refused")  # fmt: skip
        raise
    with svc.store.transaction() as conn:
        mode = get_setting(conn, "keyset_mode")
    if mode is not None and (mode == "test") is not parsed.test:
        raise KeystoreModeError(
            f"this store holds {mode.upper()} data: a "
            f"{'TEST' if parsed.test else 'PRODUCTION'} key file cannot be used with it"
        )
    check_kek_file_location(svc.config, env)
    create_keystore(svc.config, test=parsed.test, env=env)
    store = SealedKeystore.open(keystore_path(svc.config), kek_from_env(env))
    result = store.import_key_file(parsed)
    added = [r.key_id for r in result.records]
    _log(svc, actor, "keys.import", {"added": added, "unchanged": result.unchanged})
    return KeyImportResult(
        tuple(VendingKey.of(r) for r in result.records), result.unchanged, parsed.test
    )


def list_keys(svc: Services, actor: Actor) -> KeyListing:
    """The vending keys of the open security module: identity, DKGA, KCV, TEST mark."""
    authorize(svc, actor, Action.KEYS_LIST)
    records = sorted(svc.hsm.key_records(), key=lambda r: r.key_id)
    return KeyListing(tuple(VendingKey.of(r) for r in records), svc.hsm.test)


def new_kek_from_env(env: Mapping[str, str] | None = None) -> KekSource:
    """The KEK to change to: exactly one of STSVEND_NEW_KEK, STSVEND_NEW_KEK_FILE and
    STSVEND_NEW_KEK_PASSPHRASE (the rules of the installation's KEK)."""
    try:
        return kek_from_env(env, prefix=ENV_NEW_PREFIX, label="new key-encryption key")
    except KekError as exc:
        raise type(exc)(f"{exc.message}; nothing was changed") from None


def change_kek(
    svc: Services, actor: Actor, *, env: Mapping[str, str] | None = None
) -> KekChangeResult:
    """Re-seal the installation's keystore under a new KEK (admin).

    The file is replaced atomically: it opens under the old KEK or the new one, never neither;
    no temporary copy under the old KEK is left.  The token log key is sealed inside it, so the
    log still verifies; a keystore whose log key is not this store's is refused.
    """
    # No action of its own in the permission table: changing the KEK is key custody, the same
    # duty as importing keys (admin only).
    authorize(svc, actor, Action.KEYS_IMPORT)
    path = keystore_path(svc.config)
    if not path.exists():
        if demo_keystore_path(svc.config).exists():
            raise KeystoreModeError(
                "this installation has only the TEST demo keystore, whose key-encryption key "
                "is generated and kept beside it: there is no KEK to change (import a key "
                "file under your own KEK with `stsvend keys import`)"
            )
        raise KeystoreFileError(
            f"no keystore at {path}: import a key file first (`stsvend keys import`)"
        )
    check_kek_file_location(svc.config, env, names=(ENV_KEK_FILE, f"{ENV_NEW_PREFIX}KEK_FILE"))
    new_kek = new_kek_from_env(env)
    current_kek = kek_from_env(env)
    if new_kek.kind == current_kek.kind and hmac.compare_digest(
        new_kek.material(), current_kek.material()
    ):
        raise KekError("the new key-encryption key is the one in use; nothing was changed")
    store = SealedKeystore.open(path, current_kek)  # a wrong KEK stops here: nothing written
    log_key = log_key_of(store)
    with svc.store.transaction() as conn:
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
    result = KekChangeResult(
        str(path), reopened.mode, len(reopened), new_kek.kind, after.check_value
    )
    _log(svc, actor, "keys.change-kek",
         {"from": current_kek.kind, "to": new_kek.kind, "keys": result.keys,
          "mode": result.mode.value, "log_key": result.log_key}, target=path.name)  # fmt: skip
    return result
