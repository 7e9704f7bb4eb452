"""Key data of a meter, decoder keys, and decoder key generation (DKGA02, DKGA04).

IEC 62055-41 clause 6.1 and 6.5.1 (``docs/sts.md`` §7).  A meter's key data is its supply
group code (SGC), tariff index (TI), key revision number (KRN), key type (KT), encryption
algorithm (EA), base date and key expiry number (KEN).  Its decoder key is derived from the
vending key of its supply group:

* DKGA02 (DES, 64-bit vending key, EA07): X = PANBlock ⊕ ControlBlock; DK = DES_VK(X) ⊕ X ⊕ VK.
* DKGA04 (HMAC-SHA-256, 160-bit vending key, EA07 or EA11): DK = the leading 8 or 16 bytes of
  an HMAC over a length-prefixed string of the base date, EA, TI, SGC, KT, KRN and PAN.

>>> from stsvend.sts.identity import MeterIdentity
>>> meter = MeterIdentity.parse("600727", "00000000000")
>>> data = KeyData(sgc=123456, ti=1, krn=1, key_type=2)
>>> derive_decoder_key(bytes.fromhex("abababababababab"), meter, data).hex()
'e653341f9d5bf36f'
"""

from __future__ import annotations

import enum
import hmac
import re
from typing import Any

from attrs import field, frozen
from Crypto.Cipher import DES

from stsvend.errors import KeyMaterialError
from stsvend.sts.identity import MeterIdentity
from stsvend.sts.sta import sta_decrypt, sta_encrypt
from stsvend.sts.sta_tables import PRODUCTION, StaTables
from stsvend.sts.tid import BaseDate

__all__ = [
    "DKGA",
    "EA",
    "DecoderKey",
    "KeyData",
    "KeyType",
    "control_block",
    "derive_decoder_key",
    "pan_block",
    "vending_key_schedule",
]


class EA(enum.Enum):
    """Encryption algorithm codes (clause 6.1.5)."""

    STA = "07"  #: EA07, Standard Transfer Algorithm, 64-bit key
    MISTY1 = "11"  #: EA11, MISTY1, 128-bit key

    @classmethod
    def parse(cls, value: Any) -> EA:
        if isinstance(value, cls):
            return value
        # Exactly "07"/"11" (or 7/11): no padding, sign or other script's digits.
        text = f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else value
        try:
            return cls(text)
        except ValueError:
            raise KeyMaterialError(f"ea must be 07 (STA) or 11 (MISTY1), got {value!r}") from None

    @property
    def key_bytes(self) -> int:
        return 8 if self is EA.STA else 16


class DKGA(enum.Enum):
    """Decoder key generation algorithms implemented (clause 6.5.1)."""

    DKGA02 = "02"
    DKGA04 = "04"

    @classmethod
    def parse(cls, value: Any) -> DKGA:
        if isinstance(value, cls):
            return value
        # Exactly "02"/"04" (or 2/4): no padding, sign or other script's digits.
        text = f"{value:02d}" if isinstance(value, int) and not isinstance(value, bool) else value
        try:
            return cls(text)
        except ValueError:
            raise KeyMaterialError(
                f"dkga must be 02 or 04, got {value!r} (01 and 03 are legacy/withdrawn)"
            ) from None

    @property
    def vending_key_bytes(self) -> int:
        return 8 if self is DKGA.DKGA02 else 20


class KeyType(enum.IntEnum):
    """Decoder key types (clause 6.1.6)."""

    DITK = 0  #: initialisation key (factory)
    DDTK = 1  #: default key: accepts key change tokens, refuses credit
    DUTK = 2  #: unique key (the normal per-meter key)
    DCTK = 3  #: common key


# ASCII digits only: [0-9], unlike str.isdigit, never matches other scripts' digits.
_PLAIN = re.compile(r"[0-9]+")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def _bounded(name: str, value: Any, low: int, high: int) -> int:
    # Integers or plain ASCII digit strings only: a float (1.7, inf) is never silently
    # truncated, and "+1", " 1" or other scripts' digits are not numbers here.
    is_int = isinstance(value, int) and not isinstance(value, bool)
    is_digits = isinstance(value, str) and _PLAIN.fullmatch(value) is not None and len(value) <= 18
    if not (is_int or is_digits):
        raise KeyMaterialError(f"{name} must be an integer, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise KeyMaterialError(f"{name} is outside {low}-{high} ({value!r})")
    return number


def _sgc(value: Any) -> int:
    plain_int = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    text = f"{int(value):06d}" if plain_int else value
    if not isinstance(text, str) or not _PLAIN.fullmatch(text) or len(text) > 6:
        raise KeyMaterialError(f"sgc must be up to 6 digits, got {value!r}")
    return int(text)


def _ti(value: Any) -> int:
    return _bounded("ti", value, 0, 99)


def _krn(value: Any) -> int:
    return _bounded("krn", value, 1, 9)


def _key_type(value: Any) -> KeyType:
    return KeyType(_bounded("key type", value, 0, 3))


def _ken(value: Any) -> int:
    return _bounded("ken", value, 0, 255)


def _ea(value: Any) -> EA:
    return EA.parse(value)


def _base_date(value: Any) -> BaseDate:
    return BaseDate.parse(value)


@frozen
class KeyData:
    """The key configuration of one meter (what a key change token changes).

    >>> data = KeyData(sgc="012345", ti=1, krn=1, key_type=2)
    >>> data.sgc, data.key_type, data.ea, data.base_date, data.ken
    (12345, <KeyType.DUTK: 2>, <EA.STA: '07'>, <BaseDate.Y2014: 2014>, 255)
    """

    sgc: int = field(converter=_sgc)
    ti: int = field(converter=_ti)
    krn: int = field(converter=_krn)
    key_type: KeyType = field(converter=_key_type)
    ea: EA = field(default=EA.STA, converter=_ea)
    #: 2014 unless given: base date 1993's TIDs ran out on 2024-11-24 20:15 UTC (clause 6.3.5).
    base_date: BaseDate = field(default=BaseDate.Y2014, converter=_base_date)
    ken: int = field(default=255, converter=_ken)


@frozen(repr=False)
class DecoderKey:
    """A decoder key: 8 bytes for EA07, 16 bytes for EA11, big-endian as DKGA outputs it.

    Its ``repr`` never shows the key; :meth:`hex` does, for test rigs only.  An EA07 key
    carries the STA table set it encrypts with (the published production set unless the
    keystore or configuration gives the one the STS Association issued).
    """

    value: bytes
    ea: EA = field(default=EA.STA, converter=_ea)
    tables: StaTables = field(default=PRODUCTION, kw_only=True)
    # Pre-computed cipher state, so that a key used for many tokens is scheduled once.
    _as_int: int = field(init=False, eq=False, hash=False)
    _misty: Any = field(init=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, bytes) or len(self.value) != self.ea.key_bytes:
            got = len(self.value) if isinstance(self.value, bytes | bytearray) else "not bytes"
            raise KeyMaterialError(
                f"an EA{self.ea.value} decoder key is {self.ea.key_bytes} bytes, got {got}"
            )
        object.__setattr__(self, "_as_int", int.from_bytes(self.value, "big"))
        misty = None
        if self.ea is EA.MISTY1:
            from stsvend.sts.misty1 import Misty1

            misty = Misty1(self.value)
        object.__setattr__(self, "_misty", misty)

    @classmethod
    def from_hex(
        cls, text: str, ea: EA | str = EA.STA, *, tables: StaTables = PRODUCTION
    ) -> DecoderKey:
        try:
            if not isinstance(text, str) or not _HEX.fullmatch(text):
                raise ValueError(text)
            raw = bytes.fromhex(text)
        except ValueError:
            raise KeyMaterialError("a decoder key must be hexadecimal") from None
        return cls(raw, EA.parse(ea), tables=tables)

    def hex(self) -> str:
        return self.value.hex()

    def __repr__(self) -> str:
        return f"DecoderKey(ea={self.ea.value!r}, bits={8 * len(self.value)})"

    def encrypt_block(self, block: int) -> int:
        if self._misty is not None:
            return int(self._misty.encrypt_block(block))
        return sta_encrypt(self._as_int, block, self.tables)

    def decrypt_block(self, block: int) -> int:
        if self._misty is not None:
            return int(self._misty.decrypt_block(block))
        return sta_decrypt(self._as_int, block, self.tables)


def pan_block(meter: MeterIdentity, key_type: int) -> bytes:
    """The DKGA02 PANBlock: the PAN's 16 digits after the first, as packed BCD (clause 6.1.2).

    Common keys (KT 3) replace the DRN by zeros.
    """
    digits = meter.iin + ("0" * len(meter.drn) if key_type == KeyType.DCTK else meter.drn)
    return bytes.fromhex(digits[1:17])


def control_block(data: KeyData) -> bytes:
    """The DKGA02 ControlBlock: KT || SGC || TI || KRN || FFFFFF as 16 hex digits.

    >>> control_block(KeyData(sgc=123456, ti=1, krn=1, key_type=1)).hex().upper()
    '1123456011FFFFFF'
    """
    return bytes.fromhex(f"{int(data.key_type):1d}{data.sgc:06d}{data.ti:02d}{data.krn:1d}FFFFFF")


def vending_key_schedule(vending_key: bytes) -> Any:
    """The DES key schedule of a DKGA02 vending key.

    A caller that derives many decoder keys under one vending key (the security module, a
    batch run) keeps it and passes it to :func:`derive_decoder_key` as ``schedule``; this
    module keeps nothing.
    """
    if not isinstance(vending_key, bytes) or len(vending_key) != DKGA.DKGA02.vending_key_bytes:
        raise KeyMaterialError("a DKGA02 vending key is 8 bytes")
    return DES.new(vending_key, DES.MODE_ECB)


def _dkga02(
    vending_key: bytes, meter: MeterIdentity, data: KeyData, schedule: Any = None
) -> bytes:
    if data.ea is not EA.STA:
        raise KeyMaterialError("DKGA02 makes 64-bit keys for EA07; EA11 needs DKGA04")
    x = int.from_bytes(pan_block(meter, data.key_type), "big") ^ int.from_bytes(
        control_block(data), "big"
    )
    xb = x.to_bytes(8, "big")
    des = DES.new(vending_key, DES.MODE_ECB) if schedule is None else schedule
    y = int.from_bytes(des.encrypt(xb), "big")
    # The raw VK (not parity-adjusted) enters the final XOR: this reproduces every vector,
    # including one whose VK lacks odd parity (docs/sts.md §7.3).
    return (y ^ x ^ int.from_bytes(vending_key, "big")).to_bytes(8, "big")


def _dkga04_message(meter: MeterIdentity, data: KeyData) -> bytes:
    def item(text: str) -> bytes:
        return bytes((len(text),)) + text.encode("ascii")

    label = b"\x04" + item("04") + item(data.base_date.code) + item(data.ea.value)
    label += item(f"{data.ti:02d}")
    context = b"\x04" + item(f"{data.sgc:06d}") + item(f"{int(data.key_type):d}")
    context += item(f"{data.krn:d}") + item(meter.pan)
    return label + b"\x00" + context + (8 * data.ea.key_bytes).to_bytes(4, "big")


def _dkga04(vending_key: bytes, meter: MeterIdentity, data: KeyData) -> bytes:
    mac = hmac.digest(vending_key, _dkga04_message(meter, data), "sha256")
    return mac[: data.ea.key_bytes]


def derive_decoder_key(
    vending_key: bytes,
    meter: MeterIdentity,
    data: KeyData,
    dkga: DKGA | str = DKGA.DKGA02,
    *,
    tables: StaTables = PRODUCTION,
    schedule: Any = None,
) -> DecoderKey:
    """Derive a meter's decoder key from its supply group's vending key.

    ``tables`` is the STA table set the key will encrypt with (EA07 keys only); ``schedule`` is
    :func:`vending_key_schedule` of ``vending_key`` when the caller keeps one (DKGA02 only).
    """
    algorithm = DKGA.parse(dkga)
    if not isinstance(vending_key, bytes) or len(vending_key) != algorithm.vending_key_bytes:
        got = len(vending_key) if isinstance(vending_key, bytes | bytearray) else "not bytes"
        raise KeyMaterialError(
            f"a DKGA{algorithm.value} vending key is {algorithm.vending_key_bytes} bytes, got {got}"
        )
    if algorithm is DKGA.DKGA02:
        raw = _dkga02(vending_key, meter, data, schedule)
    else:
        raw = _dkga04(vending_key, meter, data)
    return DecoderKey(raw, data.ea, tables=tables)
