"""Sealing one value under the KEK: an AES-256-GCM box bound to what the value belongs to.

A box is ``{"nonce": hex, "sealed": hex}`` (a fresh 96-bit nonce per seal; the ciphertext with
its 128-bit tag).  The associated data names the keystore's format and mode and the value's
place: the header (for the KEK check), a key's whole record, or an application key's name.  A
box moved to another place, or a record edited beside it, no longer opens.

>>> kek = SecretBytes(bytes(32))
>>> ad = entry_ad(KeystoreMode.TEST, {"key_id": "123456/1/VUDK"})
>>> box = seal(kek, bytes(12), b"value", ad)
>>> unseal(kek, box, ad), unseal(kek, box, header_ad(KeystoreMode.TEST, {"kind": "raw"}))
(b'value', None)
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from Crypto.Cipher import AES

from stsvend.keystore.errors import KeystoreFileError
from stsvend.keystore.records import SecretBytes

__all__ = [
    "KEYSTORE_FORMAT",
    "NONCE_BYTES",
    "KeystoreMode",
    "app_key_ad",
    "canonical",
    "entry_ad",
    "header_ad",
    "seal",
    "unseal",
]

KEYSTORE_FORMAT = "stsvend-keystore/1"
NONCE_BYTES = 12
_TAG_BYTES = 16


class KeystoreMode(enum.Enum):
    """A keystore holds TEST keys (published test keys) or PRODUCTION keys, never both."""

    TEST = "test"
    PRODUCTION = "production"

    @property
    def test(self) -> bool:
        return self is KeystoreMode.TEST


def canonical(value: Any) -> bytes:
    """One byte string per JSON value (sorted keys, no spaces): associated data must not vary."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")


def header_ad(mode: KeystoreMode, kek_params: Mapping[str, Any]) -> bytes:
    """Associated data of the KEK check: the header as stored."""
    return canonical({"format": KEYSTORE_FORMAT, "mode": mode.value, "kek": dict(kek_params)})


def entry_ad(mode: KeystoreMode, record: Mapping[str, Any]) -> bytes:
    """Associated data of a vending key: its whole record."""
    return canonical({"format": KEYSTORE_FORMAT, "mode": mode.value, "record": dict(record)})


def app_key_ad(mode: KeystoreMode, name: str) -> bytes:
    """Associated data of an application key: its name."""
    return canonical({"format": KEYSTORE_FORMAT, "mode": mode.value, "app_key": name})


def seal(kek: SecretBytes, nonce: bytes, plaintext: bytes, ad: bytes) -> dict[str, str]:
    """A box holding ``plaintext`` under ``kek``; ``nonce`` is fresh for every seal."""
    cipher = AES.new(kek.reveal(), AES.MODE_GCM, nonce=nonce)
    cipher.update(ad)
    body, tag = cipher.encrypt_and_digest(plaintext)
    return {"nonce": nonce.hex(), "sealed": (body + tag).hex()}


def unseal(kek: SecretBytes, box: Any, ad: bytes) -> bytes | None:
    """The plaintext of a box, or None when its tag does not verify (wrong KEK or place).

    A box that is not two hex strings of the right sizes is damage, not a wrong key:
    :class:`KeystoreFileError`.
    """
    try:
        nonce = bytes.fromhex(box["nonce"])
        sealed = bytes.fromhex(box["sealed"])
    except (KeyError, TypeError, ValueError):
        raise KeystoreFileError("a sealed value in the keystore is malformed") from None
    if len(nonce) != NONCE_BYTES or len(sealed) < _TAG_BYTES:
        raise KeystoreFileError("a sealed value in the keystore is malformed")
    cipher = AES.new(kek.reveal(), AES.MODE_GCM, nonce=nonce)
    cipher.update(ad)
    try:
        return bytes(cipher.decrypt_and_verify(sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]))
    except ValueError:
        return None
