"""What the keystore says about a key without showing it: vending key types and key records.

A vending key is identified by its supply group code (SGC), key revision number (KRN) and
vending key type; the type says which decoder key type (KT) it derives
(``docs/sts.md`` §7.7):

=======  ====  =====================================================================
type     KT    use
=======  ====  =====================================================================
VUDK     2     unique decoder keys: the normal key of a meter in service
VDDK     1     default decoder keys: commissioning (key change only, never credit)
VCDK     3     common decoder keys
VITK     0     initialisation keys of factory and test rigs (stsvend's name for it)
=======  ====  =====================================================================

>>> rec = KeyRecord(sgc=123456, krn=1, dkga="02", vending_key_type="VUDK", kcv="c33f45",
...                 test=True)
>>> rec.key_id, rec.vending_key_type.key_type
('123456/1/VUDK', <KeyType.DUTK: 2>)
"""

from __future__ import annotations

import enum
from typing import Any

from attrs import field, frozen

from stsvend import sts
from stsvend.errors import KeyMaterialError
from stsvend.keystore.kcv import normalise_kcv

__all__ = ["KeyRecord", "SecretBytes", "VendingKeyType"]


class VendingKeyType(enum.Enum):
    """Vending key types, each bound to the decoder key type it derives."""

    VITK = "VITK"  #: KT 0 initialisation (factory rigs; not a standard name)
    VDDK = "VDDK"  #: KT 1 default
    VUDK = "VUDK"  #: KT 2 unique
    VCDK = "VCDK"  #: KT 3 common

    @property
    def key_type(self) -> sts.KeyType:
        """The decoder key type this vending key derives."""
        return _KEY_TYPE_OF[self]

    @classmethod
    def for_key_type(cls, key_type: sts.KeyType | int) -> VendingKeyType:
        """The vending key type that serves meters of decoder key type ``key_type``.

        >>> VendingKeyType.for_key_type(1)
        <VendingKeyType.VDDK: 'VDDK'>
        """
        try:
            return _TYPE_FOR_KEY_TYPE[sts.KeyType(int(key_type))]
        except (ValueError, TypeError):
            raise KeyMaterialError(f"key type must be 0-3, got {key_type!r}") from None

    @classmethod
    def parse(cls, value: Any) -> VendingKeyType:
        """Parse "VUDK", "vddk", … ("DITK" is accepted for VITK).

        >>> VendingKeyType.parse("vudk")
        <VendingKeyType.VUDK: 'VUDK'>
        """
        if isinstance(value, cls):
            return value
        text = str(value).strip().upper() if isinstance(value, str) else ""
        text = "VITK" if text == "DITK" else text
        try:
            return cls(text)
        except ValueError:
            raise KeyMaterialError(
                f"vending key type must be VUDK, VDDK, VCDK or VITK, got {value!r}"
            ) from None


_KEY_TYPE_OF = {
    VendingKeyType.VITK: sts.KeyType.DITK,
    VendingKeyType.VDDK: sts.KeyType.DDTK,
    VendingKeyType.VUDK: sts.KeyType.DUTK,
    VendingKeyType.VCDK: sts.KeyType.DCTK,
}
_TYPE_FOR_KEY_TYPE = {kt: vkt for vkt, kt in _KEY_TYPE_OF.items()}


def _krn(value: Any) -> int:
    return sts.KeyData(sgc=0, ti=0, krn=value, key_type=2).krn


def _sgc(value: Any) -> int:
    return sts.KeyData(sgc=value, ti=0, krn=1, key_type=2).sgc


def _optional_ken(value: Any) -> int | None:
    return None if value is None else sts.KeyData(sgc=0, ti=0, krn=1, key_type=2, ken=value).ken


def _optional_base_date(value: Any) -> sts.BaseDate | None:
    return None if value is None else sts.BaseDate.parse(value)


def _dkga(value: Any) -> sts.DKGA:
    return sts.DKGA.parse(value)


def _vkt(value: Any) -> VendingKeyType:
    return VendingKeyType.parse(value)


def _test_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise KeyMaterialError(f"test must be true or false, got {value!r}")
    return value


@frozen
class KeyRecord:
    """A vending key as listings, logs and receipts may show it: identity and KCV, no material.

    ``ken`` and ``base_date`` are optional: when a base date is set, the key serves only key
    data of that base date; ``ken`` is the key expiry number the key management centre gave
    with the key (the default KEN of meters moved onto it).
    """

    sgc: int = field(converter=_sgc)
    krn: int = field(converter=_krn)
    dkga: sts.DKGA = field(converter=_dkga)
    vending_key_type: VendingKeyType = field(converter=_vkt)
    kcv: str = field(converter=normalise_kcv)
    test: bool = field(converter=_test_flag)
    ken: int | None = field(default=None, converter=_optional_ken)
    base_date: sts.BaseDate | None = field(default=None, converter=_optional_base_date)
    label: str = field(default="", converter=str)

    @property
    def key_id(self) -> str:
        """``SGC/KRN/TYPE``, e.g. ``123456/1/VUDK``: how people and logs name the key."""
        return f"{self.sgc:06d}/{self.krn}/{self.vending_key_type.value}"

    @property
    def identity(self) -> tuple[int, int, VendingKeyType]:
        """The lookup key: (SGC, KRN, vending key type); unique in a keystore."""
        return (self.sgc, self.krn, self.vending_key_type)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready listing row (no key material)."""
        return {
            "key_id": self.key_id,
            "sgc": f"{self.sgc:06d}",
            "krn": self.krn,
            "dkga": self.dkga.value,
            "vending_key_type": self.vending_key_type.value,
            "kcv": self.kcv,
            "test": self.test,
            "ken": self.ken,
            "base_date": None if self.base_date is None else int(self.base_date),
            "label": self.label,
        }


@frozen(repr=False, eq=False)
class SecretBytes:
    """Key material in a wrapper whose ``repr``/``str`` never show it.

    >>> secret = SecretBytes(bytes(8))
    >>> secret, str(secret), len(secret)
    (SecretBytes(<8 bytes>), 'SecretBytes(<8 bytes>)', 8)
    """

    _value: bytes

    def reveal(self) -> bytes:
        """The bytes, for the one place that needs them (a cipher or a sealing step)."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"SecretBytes(<{len(self._value)} bytes>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        import hmac

        return isinstance(other, SecretBytes) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(("SecretBytes", len(self._value)))
