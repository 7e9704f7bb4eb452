"""The sealed keystore: vending keys encrypted at rest under a key-encryption key.

One JSON file (``docs/security.md`` has the layout)::

    {"format": "stsvend-keystore/1", "mode": "test" | "production",
     "kek": {"kind": "scrypt", "salt", "n", "r", "p"} | {"kind": "raw", "origin"},
     "check": {"nonce", "sealed"},
     "keys": [{"record": {sgc, krn, dkga, vending_key_type, kcv, test, ...},
               "nonce", "sealed"}, ...],
     "app_keys": [{"name", "nonce", "sealed"}, ...]}

Each key value is sealed with AES-256-GCM (a fresh 96-bit nonce per seal) under the KEK; the
associated data is the file's format and mode and the key's whole record (SGC, KRN, type,
DKGA, KCV, test flag, KEN, base date, label), so a record edited on disk no longer opens.
``check`` seals a constant under the header as associated data: a wrong KEK is reported as
such before any key is touched, and a header edited from production to test is detected.
``app_keys`` are random secrets kept for other parts of stsvend (the token log's chain key),
sealed the same way under their name.

Writes are atomic (temporary file in the same folder, fsync, rename, fsync of the folder;
mode 0600) and serialised by an advisory lock on ``<file>.lock``.

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

import enum
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import frozen
from Crypto.Cipher import AES

from stsvend.errors import StsError
from stsvend.keystore.errors import (
    KekError,
    KeystoreError,
    KeystoreFileError,
    KeystoreModeError,
    WrongKekError,
)
from stsvend.keystore.files import locked, write_atomic
from stsvend.keystore.kcv import vending_key_check_value
from stsvend.keystore.kek import KdfParams, KekSource, derive_kek
from stsvend.keystore.keyfile import KeyFile
from stsvend.keystore.records import KeyRecord, SecretBytes, VendingKeyType

if TYPE_CHECKING:
    from stsvend.keystore.module import SoftwareSecurityModule

__all__ = [
    "KEYSTORE_FORMAT",
    "ImportResult",
    "KeystoreMode",
    "SealedKeystore",
    "open_security_module",
]

KEYSTORE_FORMAT = "stsvend-keystore/1"
_CHECK_PLAINTEXT = b"stsvend keystore: the KEK is right"
_NONCE_BYTES = 12
_SALT_BYTES = 16
_APP_KEY_BYTES = 32
_APP_KEY_NAME = re.compile(r"[a-z0-9-]{1,32}")

Identity = tuple[int, int, VendingKeyType]


class KeystoreMode(enum.Enum):
    """A keystore holds TEST keys (published test keys) or PRODUCTION keys, never both."""

    TEST = "test"
    PRODUCTION = "production"

    @property
    def test(self) -> bool:
        return self is KeystoreMode.TEST


@frozen
class ImportResult:
    """What an import did: keys added, and keys already there with the same KCV."""

    added: int
    unchanged: int
    records: tuple[KeyRecord, ...]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _record_from(data: Any) -> KeyRecord:
    if not isinstance(data, Mapping):
        raise KeystoreFileError("a keystore entry's record is not an object")
    try:
        return KeyRecord(
            sgc=data["sgc"],
            krn=data["krn"],
            dkga=data["dkga"],
            vending_key_type=data["vending_key_type"],
            kcv=data["kcv"],
            test=data["test"],
            ken=data.get("ken"),
            base_date=data.get("base_date"),
            label=data.get("label", ""),
        )
    except KeyError as exc:
        raise KeystoreFileError(f"a keystore record lacks {exc.args[0]}") from None
    except StsError as exc:
        raise KeystoreFileError(f"a keystore record is not valid: {exc.message}") from None


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
        keys: Mapping[Identity, tuple[KeyRecord, SecretBytes]],
        random_bytes: Callable[[int], bytes],
    ) -> None:
        self._path = path
        self._mode = mode
        self._params = params
        self._kek = kek
        self._keys = dict(keys)
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
        if kek.kind == "passphrase":
            salt = random_bytes(_SALT_BYTES)
            params = (
                KdfParams.scrypt(salt) if scrypt_n is None else KdfParams.scrypt(salt, scrypt_n)
            )
        else:
            params = KdfParams.raw(origin="generated" if kek.generated else "explicit")
        store = cls(target, mode, params, derive_kek(kek, params), {}, random_bytes)
        with locked(target):
            if target.exists():
                raise KeystoreFileError(f"a keystore already exists at {target}")
            store._save()
        return store

    @classmethod
    def open(
        cls,
        path: str | Path,
        kek: KekSource,
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> SealedKeystore:
        """Open a keystore file and decrypt its keys; a wrong KEK raises :class:`WrongKekError`."""
        target = Path(path)
        mode, params, document = cls._read_header(target)
        if mode is KeystoreMode.PRODUCTION and params.origin == "generated":
            raise KeystoreModeError("a production keystore may not be sealed under a generated KEK")
        secret = derive_kek(kek, params)
        store = cls(target, mode, params, secret, {}, random_bytes)
        store._load(document)
        return store

    @staticmethod
    def _read_header(path: Path) -> tuple[KeystoreMode, KdfParams, dict[str, Any]]:
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise KeystoreFileError(f"no keystore at {path}") from None
        except (OSError, ValueError) as exc:
            raise KeystoreFileError(
                f"the keystore {path} cannot be read: {exc.__class__.__name__}"
            ) from None
        if not isinstance(document, dict) or document.get("format") != KEYSTORE_FORMAT:
            raise KeystoreFileError(f"{path} is not an stsvend keystore ({KEYSTORE_FORMAT})")
        try:
            mode = KeystoreMode(document.get("mode"))
        except ValueError:
            raise KeystoreFileError(f"{path} has no valid mode (test or production)") from None
        try:
            params = KdfParams.from_dict(document.get("kek"))
        except KekError as exc:
            raise KeystoreFileError(exc.message) from None
        return mode, params, document

    def _header_ad(self) -> bytes:
        return _canonical(
            {"format": KEYSTORE_FORMAT, "mode": self._mode.value, "kek": self._params.as_dict()}
        )

    def _entry_ad(self, record: KeyRecord) -> bytes:
        return _canonical(
            {"format": KEYSTORE_FORMAT, "mode": self._mode.value, "record": record.as_dict()}
        )

    def _seal(self, plaintext: bytes, ad: bytes) -> dict[str, str]:
        nonce = self._random(_NONCE_BYTES)
        cipher = AES.new(self._kek.reveal(), AES.MODE_GCM, nonce=nonce)
        cipher.update(ad)
        body, tag = cipher.encrypt_and_digest(plaintext)
        return {"nonce": nonce.hex(), "sealed": (body + tag).hex()}

    def _unseal(self, box: Any, ad: bytes) -> bytes | None:
        """The plaintext, or None when the tag does not verify."""
        try:
            nonce = bytes.fromhex(box["nonce"])
            sealed = bytes.fromhex(box["sealed"])
        except (KeyError, TypeError, ValueError):
            raise KeystoreFileError("a sealed value in the keystore is malformed") from None
        if len(nonce) != _NONCE_BYTES or len(sealed) < 16:
            raise KeystoreFileError("a sealed value in the keystore is malformed")
        cipher = AES.new(self._kek.reveal(), AES.MODE_GCM, nonce=nonce)
        cipher.update(ad)
        try:
            return bytes(cipher.decrypt_and_verify(sealed[:-16], sealed[-16:]))
        except ValueError:
            return None

    def _unseal_all(
        self, document: Mapping[str, Any]
    ) -> dict[Identity, tuple[KeyRecord, SecretBytes]]:
        if self._unseal(document.get("check"), self._header_ad()) != _CHECK_PLAINTEXT:
            raise WrongKekError(
                f"the key-encryption key does not open the keystore {self._path} "
                "(or its header was altered); nothing was changed"
            )
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise KeystoreFileError("the keystore's keys are not a list")
        keys: dict[Identity, tuple[KeyRecord, SecretBytes]] = {}
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise KeystoreFileError("a keystore entry is not an object")
            record = _record_from(entry.get("record"))
            if record.test is not self._mode.test:
                raise KeystoreModeError(
                    f"key {record.key_id} is marked test={record.test} in a "
                    f"{self._mode.value} keystore"
                )
            value = self._unseal(entry, self._entry_ad(record))
            if value is None or len(value) != record.dkga.vending_key_bytes:
                raise KeystoreFileError(
                    f"key {record.key_id} does not open: its record or value was changed on disk"
                )
            if vending_key_check_value(value, record.dkga) != record.kcv:
                raise KeystoreFileError(f"key {record.key_id} no longer matches its KCV")
            if record.identity in keys:
                raise KeystoreFileError(f"key {record.key_id} appears twice in the keystore")
            keys[record.identity] = (record, SecretBytes(value))
        return keys

    def _app_key_ad(self, name: str) -> bytes:
        return _canonical({"format": KEYSTORE_FORMAT, "mode": self._mode.value, "app_key": name})

    def _unseal_app_keys(self, document: Mapping[str, Any]) -> dict[str, SecretBytes]:
        entries = document.get("app_keys", [])
        if not isinstance(entries, list):
            raise KeystoreFileError("the keystore's application keys are not a list")
        keys: dict[str, SecretBytes] = {}
        for entry in entries:
            name = entry.get("name") if isinstance(entry, Mapping) else None
            if not isinstance(name, str) or not _APP_KEY_NAME.fullmatch(name) or name in keys:
                raise KeystoreFileError("an application key entry is malformed or repeated")
            value = self._unseal(entry, self._app_key_ad(name))
            if value is None or len(value) != _APP_KEY_BYTES:
                raise KeystoreFileError(f"application key {name!r} does not open")
            keys[name] = SecretBytes(value)
        return keys

    def _load(self, document: Mapping[str, Any]) -> None:
        keys = self._unseal_all(document)
        self._app_keys = self._unseal_app_keys(document)
        self._keys = keys

    def _document(self) -> dict[str, Any]:
        return {
            "format": KEYSTORE_FORMAT,
            "mode": self._mode.value,
            "kek": self._params.as_dict(),
            "check": self._seal(_CHECK_PLAINTEXT, self._header_ad()),
            "keys": [
                {"record": record.as_dict(), **self._seal(value.reveal(), self._entry_ad(record))}
                for record, value in sorted(self._keys.values(), key=lambda kv: kv[0].key_id)
            ],
            "app_keys": [
                {"name": name, **self._seal(value.reveal(), self._app_key_ad(name))}
                for name, value in sorted(self._app_keys.items())
            ],
        }

    def _save(self) -> None:
        write_atomic(self._path, json.dumps(self._document(), indent=1).encode("utf-8") + b"\n")

    def _reload(self) -> None:
        """Re-read the file under the lock (another process may have imported since)."""
        mode, params, document = self._read_header(self._path)
        if (mode, params) != (self._mode, self._params):
            raise KeystoreFileError(f"the keystore {self._path} was replaced while open")
        self._load(document)

    # -- reading and changing ---------------------------------------------------------------

    def records(self) -> tuple[KeyRecord, ...]:
        """Every key's record (no material), sorted by key id."""
        return tuple(sorted((r for r, _ in self._keys.values()), key=lambda r: r.key_id))

    def import_key_file(self, key_file: KeyFile) -> ImportResult:
        """Add a verified key file's keys; all or nothing.

        Refused: a file whose TEST/PRODUCTION flag differs from the keystore's, and a key whose
        SGC/KRN/type is already here with another KCV (retire the old key first).  A key already
        here with the same KCV is left as it is (importing a file twice is harmless).
        """
        if key_file.test is not self._mode.test:
            kind = "TEST" if key_file.test else "PRODUCTION"
            raise KeystoreModeError(
                f"a {kind} key file cannot be imported into a {self._mode.value} keystore"
            )
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
                    self._save()
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
        if not isinstance(name, str) or not _APP_KEY_NAME.fullmatch(name):
            raise KeystoreError("an application key name is 1-32 characters of a-z, 0-9 and -")
        found = self._app_keys.get(name)
        if found is not None:
            return found
        with locked(self._path):
            self._reload()
            found = self._app_keys.get(name)
            if found is not None:
                return found
            value = SecretBytes(self._random(_APP_KEY_BYTES))
            self._app_keys[name] = value
            try:
                self._save()
            except BaseException:
                del self._app_keys[name]
                raise
        return value

    def change_kek(self, new_kek: KekSource, *, scrypt_n: int | None = None) -> None:
        """Re-seal every key under a new KEK (a new salt for a passphrase)."""
        if not self._mode.test and new_kek.generated:
            raise KeystoreModeError("a production keystore needs an explicit key-encryption key")
        if new_kek.kind == "passphrase":
            salt = self._random(_SALT_BYTES)
            params = (
                KdfParams.scrypt(salt) if scrypt_n is None else KdfParams.scrypt(salt, scrypt_n)
            )
        else:
            params = KdfParams.raw(origin="generated" if new_kek.generated else "explicit")
        secret = derive_kek(new_kek, params)
        with locked(self._path):
            self._reload()
            old = (self._params, self._kek)
            self._params, self._kek = params, secret
            try:
                self._save()
            except BaseException:
                self._params, self._kek = old
                raise

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
