"""Opening an installation: the store, the keystore behind the security module, the log key.

Where things live (all under the data directory unless configured otherwise):

* the database: ``stsvend.db`` (SQLite) or ``database_url``;
* the production (or imported test) keystore: ``keystore.json``, sealed under the KEK given
  by ``STSVEND_KEK`` / ``STSVEND_KEK_FILE`` / ``STSVEND_KEK_PASSPHRASE``;
* the demo keystore: ``demo-keystore.json`` with its generated KEK ``demo-kek.hex`` (0600).

A KEK file named by ``STSVEND_KEK_FILE`` must live outside the data directory (the demo's
generated KEK is the one exception): a copy of the folder must not carry its own key.

The token log key is a random secret sealed in the keystore (``application_key("token-log")``),
so it is in the same custody as the vending keys and survives a change of KEK; its check value
is kept in the store, and a store opened with another keystore is refused rather than silently
producing unverifiable rows.

The utility's identity (name, tax number, currency, time zone) is read from the store when it
is opened and replaces the configuration's; a configured value that contradicts it is refused
(:mod:`stsvend.services.identity`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from stsvend.config import Config
from stsvend.keystore.demo import DEMO_KEYSTORE_FILE, open_demo_keystore
from stsvend.keystore.errors import KekError
from stsvend.keystore.kek import ENV_KEK_FILE, kek_from_env
from stsvend.keystore.module import SecurityModule
from stsvend.keystore.sealed import SealedKeystore
from stsvend.services.context import Services, ServiceUnavailable
from stsvend.services.identity import apply_identity, read_identity
from stsvend.store.repos.settings import get_setting, put_setting
from stsvend.store.uow import Store
from stsvend.tokenlog.chain import LogKey
from stsvend.tokenlog.oplog import authenticate_boundary

__all__ = [
    "KEYSTORE_FILE",
    "KekFileLocationError",
    "LogKeyMismatch",
    "check_kek_file_location",
    "demo_keystore_path",
    "keystore_path",
    "log_key_of",
    "open_from_environment",
    "open_keystore",
    "open_services",
]

KEYSTORE_FILE = "keystore.json"


class LogKeyMismatch(ServiceUnavailable):
    code = "keystore"
    default_message = "the token log key does not match this store"


class KekFileLocationError(KekError):
    """A KEK file kept in the data directory, beside the keystore it opens."""

    default_message = "the KEK file must not be kept in the data directory"


def check_kek_file_location(
    config: Config, env: Mapping[str, str] | None = None, names: tuple[str, ...] = (ENV_KEK_FILE,)
) -> None:
    """Refuse a KEK file (named by the variables ``names``) inside the data directory: whoever
    copies that folder (a backup, a stolen disk) would take the keystore and the key that opens
    it together.  The TEST demo keystore keeps its generated KEK there by design; it is not
    named by these variables."""
    env = os.environ if env is None else env
    data_dir = config.data_dir.expanduser().resolve()
    for name in names:
        text = env.get(name)
        if not text:
            continue
        path = Path(text).expanduser().resolve()
        if path.is_relative_to(data_dir):
            raise KekFileLocationError(
                f"{name} names {path}, inside the data directory {data_dir}: keep the "
                "key-encryption key apart from the keystore it opens (move the file elsewhere, "
                "mode 0600)"
            )


def keystore_path(config: Config) -> Path:
    return config.data_dir / KEYSTORE_FILE


def demo_keystore_path(config: Config) -> Path:
    return config.data_dir / DEMO_KEYSTORE_FILE


def log_key_of(store: SealedKeystore) -> LogKey:
    # The log key is a random secret sealed in the keystore itself, so that a change of the
    # key-encryption key keeps every earlier log row verifiable.
    return LogKey.derive(store.application_key("token-log").reveal())


def open_keystore(
    config: Config, env: Mapping[str, str] | None = None, *, demo: bool = False
) -> tuple[SecurityModule, LogKey] | None:
    """The security module and log key of this installation (None: no keystore yet).

    ``demo`` creates the demo keystore (TEST keys, generated KEK) when there is none.
    """
    production = keystore_path(config)
    if production.exists() and not demo:
        check_kek_file_location(config, env)
        kek = kek_from_env(env)
        store = SealedKeystore.open(production, kek)
        return store.security_module(), log_key_of(store)
    demo_path = demo_keystore_path(config)
    if demo or demo_path.exists():
        store = open_demo_keystore(config.data_dir)
        return store.security_module(), log_key_of(store)
    return None


def create_keystore(config: Config, *, test: bool, env: Mapping[str, str] | None = None) -> None:
    """Create the installation's keystore (``keys import`` does this on first use)."""
    path = keystore_path(config)
    if path.exists():
        return
    check_kek_file_location(config, env)
    kek = kek_from_env(env)
    if kek.generated:
        raise KekError("the keystore needs an explicit key-encryption key")
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    SealedKeystore.create(path, test=test, kek=kek)


def _check_log_key(store: Store, key: LogKey) -> None:
    with store.transaction() as conn:
        stored = get_setting(conn, "log_key_check")
        if stored is None:
            put_setting(conn, "log_key_check", key.check_value)
        elif stored != key.check_value:
            raise LogKeyMismatch(
                f"the token log of this store was written under log key {stored}, the open "
                f"keystore gives {key.check_value}: wrong keystore or key-encryption key"
            )
        authenticate_boundary(conn, key)


def open_services(
    config: Config,
    *,
    env: Mapping[str, str] | None = None,
    keys: bool = True,
    demo: bool = False,
    migrate: bool = False,
) -> Services:
    """Open the store (and, with ``keys``, the keystore) of this installation."""
    store = Store.open(config.database_url, migrate=migrate)
    hsm = log_key = None
    try:
        with store.transaction() as conn:
            config = apply_identity(config, read_identity(conn))
        if keys:
            opened = open_keystore(config, env, demo=demo)
            if opened is not None:
                hsm, log_key = opened
                _check_log_key(store, log_key)
    except BaseException:
        store.dispose()
        raise
    return Services(store, config, hsm=hsm, log_key=log_key)


def open_from_environment() -> Services:
    """The installation named by this process's configuration and environment (what a worker
    process of a parallel bulk job opens; a module-level function, so it can be pickled)."""
    from stsvend.config import load_config

    return open_services(load_config())
