"""Operator PINs: kept only as salted scrypt hashes, compared in constant time.

The stored form names its parameters, so they can be raised later without breaking old hashes:
``scrypt$<log2 n>$<r>$<p>$<salt hex>$<hash hex>``.  A PIN is 4 to 12 digits.

>>> stored = hash_pin("4821", salt=bytes(16))
>>> stored.startswith("scrypt$"), "4821" in stored
(True, False)
>>> verify_pin("4821", stored), verify_pin("4822", stored)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from stsvend.errors import InputError

__all__ = ["PIN_LENGTHS", "check_pin_format", "hash_pin", "verify_pin"]

#: Allowed PIN lengths (digits).
PIN_LENGTHS = range(4, 13)
_LOG2_N, _R, _P = 14, 8, 1  # 16 MiB, ~40 ms: slow for guessing, fast enough for a login
_SALT_BYTES = 16


def check_pin_format(pin: str) -> str:
    """Refuse anything but 4-12 decimal digits (the message never repeats the PIN)."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        raise InputError("a PIN is 4 to 12 decimal digits")
    if len(pin) not in PIN_LENGTHS:
        raise InputError("a PIN is 4 to 12 decimal digits")
    return pin


def _scrypt(pin: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32
    )


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """The stored form of a new PIN (a fresh random salt unless one is given)."""
    check_pin_format(pin)
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = _scrypt(pin, salt, _LOG2_N, _R, _P)
    return f"scrypt${_LOG2_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True if ``pin`` matches ``stored``; False for a wrong PIN or an unreadable hash."""
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not 10 <= int(log2_n) <= 20:
            return False
        check_pin_format(pin)
        actual = _scrypt(pin, bytes.fromhex(salt), int(log2_n), int(r), int(p))
    except (ValueError, InputError):
        return False
    return hmac.compare_digest(actual, bytes.fromhex(digest))
