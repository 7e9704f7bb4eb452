"""The keystore file as a JSON document: reading its header, opening and building its entries.

The layout (``docs/security.md`` describes it)::

    {"format": "stsvend-keystore/1", "mode": "test" | "production",
     "kek": {"kind": "scrypt", "salt", "n", "r", "p"} | {"kind": "raw", "origin"},
     "check": {"nonce", "sealed"},
     "keys": [{"record": {sgc, krn, dkga, vending_key_type, kcv, test, ...},
               "nonce", "sealed"}, ...],
     "app_keys": [{"name", "nonce", "sealed"}, ...]}

``check`` seals a constant under the header as associated data, so a wrong KEK is reported as
such before any key is touched and a header edited from production to test is detected.  Every
key opened is checked against its record: length, KCV, TEST flag, no repeats.

>>> import tempfile, pathlib
>>> from stsvend.keystore.kek import KdfParams
>>> path = pathlib.Path(tempfile.mkdtemp()) / "keys.json"
>>> kek, params = SecretBytes(bytes(32)), KdfParams.raw()
>>> document = build_document(kek=kek, mode=KeystoreMode.TEST, params=params, keys={},
...                           app_keys={"token-log": SecretBytes(bytes(32))}, random_bytes=bytes)
>>> _ = path.write_text(json.dumps(document))
>>> mode, params, read = read_document(path)
>>> open_keys(read, kek=kek, mode=mode, params=params, path=path)
{}
>>> open_app_keys(read, kek=kek, mode=mode)
{'token-log': SecretBytes(<32 bytes>)}
>>> check_app_key_name("token-log"), check_app_key_name("Token Log")
(True, False)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from stsvend.errors import StsError
from stsvend.keystore.envelope import (
    KEYSTORE_FORMAT,
    NONCE_BYTES,
    KeystoreMode,
    app_key_ad,
    entry_ad,
    header_ad,
    seal,
    unseal,
)
from stsvend.keystore.errors import (
    KekError,
    KeystoreFileError,
    KeystoreModeError,
    WrongKekError,
)
from stsvend.keystore.kcv import vending_key_check_value
from stsvend.keystore.kek import KdfParams
from stsvend.keystore.records import KeyRecord, SecretBytes, VendingKeyType

__all__ = [
    "APP_KEY_BYTES",
    "Identity",
    "Keys",
    "build_document",
    "check_app_key_name",
    "open_app_keys",
    "open_keys",
    "read_document",
]

APP_KEY_BYTES = 32
_APP_KEY_NAME = re.compile(r"[a-z0-9-]{1,32}")
_CHECK_PLAINTEXT = b"stsvend keystore: the KEK is right"

Identity = tuple[int, int, VendingKeyType]
Keys = dict[Identity, tuple[KeyRecord, SecretBytes]]


def check_app_key_name(name: object) -> bool:
    """True for a valid application key name: 1-32 characters of ``a-z 0-9 -``."""
    return isinstance(name, str) and _APP_KEY_NAME.fullmatch(name) is not None


def read_document(path: Path) -> tuple[KeystoreMode, KdfParams, dict[str, Any]]:
    """The file's mode, KEK parameters and whole document; nothing is opened yet."""
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


def open_keys(
    document: Mapping[str, Any],
    *,
    kek: SecretBytes,
    mode: KeystoreMode,
    params: KdfParams,
    path: Path,
) -> Keys:
    """Check the KEK, then open and verify every vending key of the document."""
    if unseal(kek, document.get("check"), header_ad(mode, params.as_dict())) != _CHECK_PLAINTEXT:
        raise WrongKekError(
            f"the key-encryption key does not open the keystore {path} "
            "(or its header was altered); nothing was changed"
        )
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise KeystoreFileError("the keystore's keys are not a list")
    keys: Keys = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise KeystoreFileError("a keystore entry is not an object")
        record = _record_from(entry.get("record"))
        if record.test is not mode.test:
            raise KeystoreModeError(
                f"key {record.key_id} is marked test={record.test} in a {mode.value} keystore"
            )
        value = unseal(kek, entry, entry_ad(mode, record.as_dict()))
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


def open_app_keys(
    document: Mapping[str, Any], *, kek: SecretBytes, mode: KeystoreMode
) -> dict[str, SecretBytes]:
    """Open the application keys (after :func:`open_keys` has checked the KEK)."""
    entries = document.get("app_keys", [])
    if not isinstance(entries, list):
        raise KeystoreFileError("the keystore's application keys are not a list")
    keys: dict[str, SecretBytes] = {}
    for entry in entries:
        name = entry.get("name") if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not check_app_key_name(name) or name in keys:
            raise KeystoreFileError("an application key entry is malformed or repeated")
        value = unseal(kek, entry, app_key_ad(mode, name))
        if value is None or len(value) != APP_KEY_BYTES:
            raise KeystoreFileError(f"application key {name!r} does not open")
        keys[name] = SecretBytes(value)
    return keys


def build_document(
    *,
    kek: SecretBytes,
    mode: KeystoreMode,
    params: KdfParams,
    keys: Keys,
    app_keys: Mapping[str, SecretBytes],
    random_bytes: Callable[[int], bytes],
) -> dict[str, Any]:
    """The whole document, every value sealed afresh (new nonces) under ``kek``."""

    def box(plaintext: bytes, ad: bytes) -> dict[str, str]:
        return seal(kek, random_bytes(NONCE_BYTES), plaintext, ad)

    kek_params = params.as_dict()
    return {
        "format": KEYSTORE_FORMAT,
        "mode": mode.value,
        "kek": kek_params,
        "check": box(_CHECK_PLAINTEXT, header_ad(mode, kek_params)),
        "keys": [
            {"record": record.as_dict(), **box(value.reveal(), entry_ad(mode, record.as_dict()))}
            for record, value in sorted(keys.values(), key=lambda kv: kv[0].key_id)
        ],
        "app_keys": [
            {"name": name, **box(value.reveal(), app_key_ad(mode, name))}
            for name, value in sorted(app_keys.items())
        ],
    }
