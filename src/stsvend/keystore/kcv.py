"""Key check values (KCV): a short public fingerprint of a key, never the key.

The rules (``docs/keyfile-format.md`` and ``docs/security.md`` say why):

* a 64-bit **DES vending key** (DKGA02): the first 3 bytes of DES-ECB encrypting 8 zero bytes
  under the key, the banking convention that key management centres print next to DES keys;
* any **other key** (a 160-bit DKGA04 vending key, an EA07 or EA11 decoder key): the first
  3 bytes of HMAC-SHA-256(key, 8 zero bytes).  DKGA04 uses the vending key as an HMAC key
  over a message that always starts with byte 0x04, so this MAC is never a decoder key; STA and
  MISTY1 have no agreed KCV, and the DES rule would ignore the parity bits that STA uses.

A KCV is written as 6 upper-case hexadecimal digits.

>>> vending_key_check_value(bytes.fromhex("abababababababab"), "02")
'C33F45'
>>> vending_key_check_value(bytes.fromhex("abababababababab949494949494949401234567"), "04")
'0F353D'
"""

from __future__ import annotations

import hmac

from Crypto.Cipher import DES

from stsvend import sts
from stsvend.errors import KeyMaterialError

__all__ = ["KCV_DIGITS", "decoder_key_check_value", "normalise_kcv", "vending_key_check_value"]

#: Hex digits in a KCV (3 bytes).
KCV_DIGITS = 6
_ZERO_BLOCK = bytes(8)


def _hmac_kcv(key: bytes) -> str:
    return hmac.digest(key, _ZERO_BLOCK, "sha256")[:3].hex().upper()


def vending_key_check_value(key: bytes, dkga: sts.DKGA | str) -> str:
    """The KCV of a vending key for its decoder key generation algorithm.

    >>> vending_key_check_value(bytes.fromhex("0123456789abcdef"), sts.DKGA.DKGA02)
    'D5D44F'
    """
    algorithm = sts.DKGA.parse(dkga)
    if not isinstance(key, bytes) or len(key) != algorithm.vending_key_bytes:
        raise KeyMaterialError(
            f"a DKGA{algorithm.value} vending key is {algorithm.vending_key_bytes} bytes"
        )
    if algorithm is sts.DKGA.DKGA02:
        return DES.new(key, DES.MODE_ECB).encrypt(_ZERO_BLOCK)[:3].hex().upper()
    return _hmac_kcv(key)


def decoder_key_check_value(key: sts.DecoderKey) -> str:
    """The KCV of a decoder key (for the token log: it identifies the key, it is not the key).

    >>> decoder_key_check_value(sts.DecoderKey.from_hex("0abc12def3456789"))
    '6EBF59'
    """
    return _hmac_kcv(key.value)


def normalise_kcv(text: object) -> str:
    """A KCV as 6 upper-case hex digits; refuses anything else.

    >>> normalise_kcv(" c33f45 ")
    'C33F45'
    """
    value = str(text).strip().upper() if isinstance(text, str) else ""
    if len(value) != KCV_DIGITS or any(c not in "0123456789ABCDEF" for c in value):
        raise KeyMaterialError(f"a key check value is {KCV_DIGITS} hexadecimal digits")
    return value
