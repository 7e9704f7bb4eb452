"""The one error tree of stsvend.

Every error a user can cause is a subclass of :class:`StsError`.  Each class carries a
stable machine-readable ``code`` (used by the CLI's ``--jsonl`` error objects, exit codes
and HTTP statuses) and a default message; the instance message says what exactly was wrong.

::

    StsError
    ├── TokenError                 a 20-digit token or its fields are wrong
    │   ├── TokenFormatError       not 20 digits, or not below 2**66            code "format"
    │   ├── CrcError               CRC mismatch (also: wrong key, other meter)  code "crc"
    │   ├── FieldRangeError        a field value does not fit its bits/range    code "range"
    │   │   ├── AmountError        an amount cannot be encoded                  code "amount"
    │   │   └── TidError           a TID or date outside the base date's range  code "tid"
    │   └── UnsupportedTokenError  a class/subclass/algorithm we do not handle  code "function"
    ├── IdentityError              IIN, DRN or PAN malformed                    code "identity"
    │   └── CheckDigitError        a Luhn check digit is wrong                  code "check_digit"
    ├── KeyMaterialError           key inputs wrong (KRN, KT, SGC, TI, VK size) code "key"
    │   └── KeyExpiredError        TID beyond the key expiry number (KEN)       code "key_expired"
    ├── InputError                 a request/line is not of the expected shape  code "input"
    ├── IdempotencyMismatch        a request id reused for a different request
    │                                                              code "idempotency_mismatch"
    └── the other layers' branches, each in its package's ``errors`` module:
        MeterError (stsvend.meter.errors), VendingError (stsvend.vending.errors),
        KeystoreError (stsvend.keystore.errors), StoreError (stsvend.store.errors)

>>> from stsvend.errors import CheckDigitError, StsError
>>> issubclass(CheckDigitError, StsError)
True
>>> CheckDigitError("drn check digit is wrong").code
'check_digit'
"""

from __future__ import annotations

__all__ = [
    "AmountError",
    "CheckDigitError",
    "CrcError",
    "FieldRangeError",
    "IdempotencyMismatch",
    "IdentityError",
    "InputError",
    "KeyExpiredError",
    "KeyMaterialError",
    "StsError",
    "TidError",
    "TokenError",
    "TokenFormatError",
    "UnsupportedTokenError",
]


class StsError(Exception):
    """Root of every error stsvend raises on purpose.

    ``code`` is stable and machine readable; ``str(err)`` is a sentence for a person.
    """

    code: str = "error"
    default_message: str = "stsvend error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type[StsError], tuple[str]]:
        # Keep errors picklable (they cross process boundaries in batch workers).
        return (type(self), (self.message,))


class TokenError(StsError, ValueError):
    code = "token"
    default_message = "the token is not valid"


class TokenFormatError(TokenError):
    code = "format"
    default_message = "a token is 20 decimal digits below 2**66"


class CrcError(TokenError):
    code = "crc"
    default_message = "the token's CRC does not match (wrong key, wrong meter or a mistyped digit)"


class FieldRangeError(TokenError):
    code = "range"
    default_message = "a token field is outside its range"


class AmountError(FieldRangeError):
    code = "amount"
    default_message = "the amount cannot be encoded"


class TidError(FieldRangeError):
    code = "tid"
    default_message = "the TID is outside the base date's 24-bit range"


class UnsupportedTokenError(TokenError):
    code = "function"
    default_message = "this token class, subclass or algorithm is not supported"


class IdentityError(StsError, ValueError):
    code = "identity"
    default_message = "the meter number is malformed"


class CheckDigitError(IdentityError):
    code = "check_digit"
    default_message = "the check digit is wrong"


class KeyMaterialError(StsError, ValueError):
    code = "key"
    default_message = "the key data is not valid"


class KeyExpiredError(KeyMaterialError):
    code = "key_expired"
    default_message = "the token's TID is past the key expiry number (KEN)"


class InputError(StsError, ValueError):
    code = "input"
    default_message = "the input is not of the expected shape"


class IdempotencyMismatch(StsError):
    """A client request id already names a different request.

    A repeat of a request under its id is answered with the first answer; the same id with
    other content (operation, meter, amount, operator…) is refused, never answered as a replay.
    """

    code = "idempotency_mismatch"
    default_message = "the request id was already used for a different request: use a new one"
