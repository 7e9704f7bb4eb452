"""The sealed keystore: vending keys encrypted at rest under a key-encryption key.

One JSON file (its layout: :mod:`stsvend.keystore.document`, ``docs/security.md``).  Each key
value is sealed with AES-256-GCM under the KEK (:mod:`stsvend.keystore.envelope`), bound to the
file's format and mode and the key's whole record (SGC, KRN, type, DKGA, KCV, test flag, KEN,
base date, label), so a record edited on disk no longer opens.  ``app_keys`` are random secrets
kept for other parts of stsvend (the token log's chain key), sealed the same way under their name.

Writes are atomic (temporary file in the same folder, fsync, rename, fsync of the folder;
mode 0600) and serialised by an advisory lock on ``<file>.lock``.  Temporary copies left by a
writer that was killed are removed by the next write and the next open
(:func:`~stsvend.keystore.files.sweep_temp_files`); a change of KEK removes them before and after
it re-seals, so no copy sealed under the old KEK survives it.

>>> import tempfile, pathlib
>>> from stsvend.keystore.kek import KekSource
>>> from stsvend.keystore.demo import demo_key_file
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> kek = KekSource.from_hex("42" * 32)
>>> store = SealedKeystore.create(folder / "keys.json", test=True, kek=kek)
>>> store.import_key_file(demo_key_file()).added
5
>>> SealedKeystore.open(folder / "keys.json", kek).records()[0].key_id
'123456/1/VDDK'
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen

from stsvend.keystore.document import (
    APP_KEY_BYTES,
    Keys,
    build_document,
    check_app_key_name,
    open_app_keys,
    open_keys,
    read_document,
)
from stsvend.keystore.envelope import KEYSTORE_FORMAT, KeystoreMode
from stsvend.keystore.errors import KeystoreError, KeystoreFileError, KeystoreModeError
from stsvend.keystore.files import (
    lock_if_free,
    locked,
    sweep_temp_files,
    temp_files,
    write_atomic,
)
from stsvend.keystore.kek import KdfParams, KekSource, derive_kek
from stsvend.keystore.keyfile import KeyFile
from stsvend.keystore.published import refuse_published_test_keys
from stsvend.keystore.records import KeyRecord, SecretBytes

if TYPE_CHECKING:
    from stsvend.keystore.module import SoftwareSecurityModule

__all__ = [
    "KEYSTORE_FORMAT",
    "ImportResult",
    "KeystoreMode",
    "SealedKeystore",
    "open_security_module",
]

_SALT_BYTES = 16


@frozen
class ImportResult:
    """What an import did: keys added, and keys already there with the same KCV."""

    added: int
    unchanged: int
    records: tuple[KeyRecord, ...]


def _kdf_params(
    kek: KekSource, random_bytes: Callable[[int], bytes], scrypt_n: int | None
) -> KdfParams:
    if kek.kind == "passphrase":
        salt = random_bytes(_SALT_BYTES)
        return KdfParams.scrypt(salt) if scrypt_n is None else KdfParams.scrypt(salt, scrypt_n)
    return KdfParams.raw(origin="generated" if kek.generated else "explicit")


def _sweep_if_idle(path: Path) -> None:
    # Opening must not wait for a writer: when one holds the lock, it sweeps itself.  A folder
    # this process may not write to is left as it is (the next writer sweeps it).
    if not temp_files(path):
        return
    with contextlib.suppress(OSError), lock_if_free(path) as free:
        if free:
            sweep_temp_files(path)


class SealedKeystore:
    """An opened keystore file: its header, and its keys decrypted in memory.

    Key values never leave this object except into :meth:`security_module`; ``repr`` and
    every error name keys by ``SGC/KRN/TYPE`` and KCV only.
    """

    def __init__(
        self,
        path: Path,
        mode: KeystoreMode,
        params: KdfParams,
        kek: SecretBytes,
        keys: Mapping[Any, tuple[KeyRecord, SecretBytes]],
        random_bytes: Callable[[int], bytes],
    ) -> None:
        self._path = path
        self._mode = mode
        self._params = params
        self._kek = kek
        self._keys: Keys = dict(keys)
        self._app_keys: dict[str, SecretBytes] = {}
        self._random = random_bytes

    def __repr__(self) -> str:
        return f"SealedKeystore({str(self._path)!r}, mode={self._mode.value}, keys={len(self)})"

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def mode(self) -> KeystoreMode:
        return self._mode

    @property
    def test(self) -> bool:
        return self._mode.test

    # -- creating and opening --------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        test: bool,
        kek: KekSource,
        scrypt_n: int | None = None,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> SealedKeystore:
        """Create an empty keystore file; refuses to overwrite one.

        A production keystore needs an explicit KEK (a passphrase or a KEK the operator
        provides); a generated KEK is for the TEST demo keyset only.
        """
        target = Path(path)
        mode = KeystoreMode.TEST if test else KeystoreMode.PRODUCTION
        if not test and kek.generated:
            raise KeystoreModeError(
                "a production keystore needs an explicit key-encryption key, never a generated one"
            )
        params = _kdf_params(kek, random_bytes, scrypt_n)
        store = cls(target, mode, params, derive_kek(kek, params), {}, random_bytes)
        with locked(target):
            if target.exists():
                raise KeystoreFileError(f"a keystore already exists at {target}")
            store._write()
        return store

    @classmethod
    def open(
        cls,
        path: str | Path,
        kek: KekSource,
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> SealedKeystore:
        """Open a keystore file and decrypt its keys; a wrong KEK raises :class:`WrongKekError`.

        Temporary copies a killed writer left beside the file are removed first.
        """
        target = Path(path)
        _sweep_if_idle(target)
        mode, params, document = read_document(target)
        if mode is KeystoreMode.PRODUCTION and params.origin == "generated":
            raise KeystoreModeError("a production keystore may not be sealed under a generated KEK")
        secret = derive_kek(kek, params)
        store = cls(target, mode, params, secret, {}, random_bytes)
        store._load(document)
        return store

    def _load(self, document: Mapping[str, Any]) -> None:
        keys = open_keys(
            document, kek=self._kek, mode=self._mode, params=self._params, path=self._path
        )
        self._app_keys = open_app_keys(document, kek=self._kek, mode=self._mode)
        self._keys = keys

    def _write(self) -> None:
        """Replace the file with the keys as they are now (call holding the lock)."""
        sweep_temp_files(self._path)
        document = build_document(
            kek=self._kek,
            mode=self._mode,
            params=self._params,
            keys=self._keys,
            app_keys=self._app_keys,
            random_bytes=self._random,
        )
        write_atomic(self._path, json.dumps(document, indent=1).encode("utf-8") + b"\n")

    def _reload(self) -> None:
        """Re-read the file under the lock (another process may have imported since)."""
        mode, params, document = read_document(self._path)
        if (mode, params) != (self._mode, self._params):
            raise KeystoreFileError(f"the keystore {self._path} was replaced while open")
        self._load(document)

    # -- reading and changing ---------------------------------------------------------------

    def records(self) -> tuple[KeyRecord, ...]:
        """Every key's record (no material), sorted by key id."""
        return tuple(sorted((r for r, _ in self._keys.values()), key=lambda r: r.key_id))

    def import_key_file(self, key_file: KeyFile) -> ImportResult:
        """Add a verified key file's keys; all or nothing.

        Refused: a file whose TEST/PRODUCTION flag differs from the keystore's, a published
        test key into a PRODUCTION keystore, and a key whose SGC/KRN/type is already here with
        another KCV (retire the old key first).  A key already here with the same KCV is left
        as it is (importing a file twice is harmless).
        """
        if key_file.test is not self._mode.test:
            kind = "TEST" if key_file.test else "PRODUCTION"
            raise KeystoreModeError(
                f"a {kind} key file cannot be imported into a {self._mode.value} keystore"
            )
        if not self._mode.test:
            refuse_published_test_keys(key_file.records)
        with locked(self._path):
            self._reload()
            merged = dict(self._keys)
            added: list[KeyRecord] = []
            unchanged = 0
            for entry in key_file.entries:
                present = merged.get(entry.record.identity)
                if present is not None:
                    if present[0].kcv != entry.record.kcv:
                        raise KeystoreError(
                            f"key {entry.record.key_id} is already in the keystore with KCV "
                            f"{present[0].kcv}, not {entry.record.kcv}; nothing was imported"
                        )
                    unchanged += 1
                    continue
                merged[entry.record.identity] = (entry.record, entry.key)
                added.append(entry.record)
            if added:
                previous, self._keys = self._keys, merged
                try:
                    self._write()
                except BaseException:
                    self._keys = previous
                    raise
        return ImportResult(len(added), unchanged, tuple(added))

    def application_key(self, name: str) -> SecretBytes:
        """A 256-bit secret kept for another part of stsvend (e.g. ``"token-log"``).

        Made at random on first use and sealed in this file like a vending key, so it survives
        :meth:`change_kek` (a key derived from the KEK would not).  ``name`` is 1-32 characters
        of ``a-z 0-9 -``.
        """
        if not check_app_key_name(name):
            raise KeystoreError("an application key name is 1-32 characters of a-z, 0-9 and -")
        found = self._app_keys.get(name)
        if found is not None:
            return found
        with locked(self._path):
            self._reload()
            found = self._app_keys.get(name)
            if found is not None:
                return found
            value = SecretBytes(self._random(APP_KEY_BYTES))
            self._app_keys[name] = value
            try:
                self._write()
            except BaseException:
                del self._app_keys[name]
                raise
        return value

    def change_kek(self, new_kek: KekSource, *, scrypt_n: int | None = None) -> None:
        """Re-seal every key under a new KEK (a new salt for a passphrase).

        Temporary copies left beside the file are removed before the new file is written and
        again after it is in place: none sealed under the old KEK is left behind.
        """
        if not self._mode.test and new_kek.generated:
            raise KeystoreModeError("a production keystore needs an explicit key-encryption key")
        params = _kdf_params(new_kek, self._random, scrypt_n)
        secret = derive_kek(new_kek, params)
        with locked(self._path):
            self._reload()
            old = (self._params, self._kek)
            self._params, self._kek = params, secret
            try:
                self._write()
            except BaseException:
                self._params, self._kek = old
                raise
            sweep_temp_files(self._path)

    def security_module(self, *, cache_size: int = 100_000) -> SoftwareSecurityModule:
        """A :class:`~stsvend.keystore.module.SoftwareSecurityModule` over these keys."""
        from stsvend.keystore.module import SoftwareSecurityModule

        return SoftwareSecurityModule(
            [(record, value) for record, value in self._keys.values()],
            test=self._mode.test,
            cache_size=cache_size,
        )


def open_security_module(path: str | Path, kek: KekSource) -> SoftwareSecurityModule:
    """Open a sealed keystore and return a security module over its keys (one call).

    >>> import tempfile, pathlib
    >>> from stsvend.keystore.demo import demo_key_file
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "keys.json"
    >>> kek = KekSource.from_hex("24" * 32)
    >>> _ = SealedKeystore.create(target, test=True, kek=kek).import_key_file(demo_key_file())
    >>> open_security_module(target, kek)
    SoftwareSecurityModule(test=True, keys=5)
    """
    return SealedKeystore.open(path, kek).security_module()
