"""Operator PINs: kept only as salted scrypt hashes, compared in constant time.

The stored form names its parameters, so they can be raised later without breaking old hashes:
``scrypt$<log2 n>$<r>$<p>$<salt hex>$<hash hex>``.

A new PIN is 6 to 12 decimal digits and not one of the first guesses (one digit repeated, or a
run up or down such as ``123456``); see docs/security.md.  A PIN set before that rule (4 or 5
digits) still verifies, so that its owner can log in once more to choose a new one.

>>> stored = hash_pin("482915", salt=bytes(16))
>>> stored.startswith("scrypt$"), "482915" in stored
(True, False)
>>> verify_pin("482915", stored), verify_pin("482916", stored)
(True, False)
>>> check_new_pin("111111")
Traceback (most recent call last):
...
stsvend.services.pin.WeakPinError: a PIN must not be one digit repeated
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
from collections.abc import Callable

from stsvend.errors import InputError

__all__ = [
    "MIN_PIN_LENGTH",
    "NEW_PIN_LENGTHS",
    "PIN_LENGTHS",
    "WeakPinError",
    "check_new_pin",
    "check_pin_format",
    "hash_pin",
    "random_pin",
    "spend_check",
    "verify_pin",
]

#: Lengths (digits) a stored PIN may have: older installations allowed 4 and 5.
PIN_LENGTHS = range(4, 13)
#: The shortest PIN that may be set now.
MIN_PIN_LENGTH = 6
#: Lengths (digits) of a PIN being set.
NEW_PIN_LENGTHS = range(MIN_PIN_LENGTH, 13)
_LOG2_N, _R, _P = 14, 8, 1  # 16 MiB, ~40 ms: slow for guessing, fast enough for a login
_SALT_BYTES = 16


def check_pin_format(pin: str) -> str:
    """Refuse anything but 4-12 decimal digits (the message never repeats the PIN)."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        raise InputError("a PIN is 4 to 12 decimal digits")
    if len(pin) not in PIN_LENGTHS:
        raise InputError("a PIN is 4 to 12 decimal digits")
    return pin


class WeakPinError(InputError):
    """A new PIN is too short or too easily guessed."""

    code = "weak_pin"
    default_message = f"a PIN is {MIN_PIN_LENGTH} to 12 decimal digits"


def _is_run(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {-1})


def check_new_pin(pin: str) -> str:
    """Refuse a PIN being set unless it is 6-12 digits and not a first guess."""
    if not isinstance(pin, str) or not pin.isascii() or not pin.isdigit():
        raise WeakPinError(f"a PIN is {MIN_PIN_LENGTH} to 12 decimal digits")
    if len(pin) not in NEW_PIN_LENGTHS:
        raise WeakPinError(f"a PIN is {MIN_PIN_LENGTH} to 12 decimal digits")
    if len(set(pin)) == 1:
        raise WeakPinError("a PIN must not be one digit repeated")
    if _is_run(pin):
        raise WeakPinError("a PIN must not be a run of consecutive digits, up or down")
    return pin


def random_pin(randbelow: Callable[[int], int] = secrets.randbelow, length: int = 12) -> str:
    """A random PIN that :func:`check_new_pin` accepts (for operators nobody logs in as)."""
    while True:
        candidate = "".join(str(randbelow(10)) for _ in range(length))
        try:
            return check_new_pin(candidate)
        except WeakPinError:  # pragma: no cover - one in about 10**11
            continue


def _scrypt(pin: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32
    )


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """The stored form of a new PIN (a fresh random salt unless one is given)."""
    check_new_pin(pin)
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


def spend_check(pin: str) -> None:
    """Take as long as checking ``pin`` against a stored hash of today's cost, and match
    nothing: a login for a name with no hash to check (unknown, disabled) answers no sooner
    than a wrong PIN, so its timing does not tell which names exist."""
    verify_pin(pin, f"scrypt${_LOG2_N}${_R}${_P}${'00' * _SALT_BYTES}${'00' * 32}")
