"""Shared builders for the meter tests: test keysets, profiles and a tiny "vending side".

Tokens come from :mod:`stsvend.sts` (the vending side's encoder, checked against the published
vectors in ``tests/sts``), never from the meter model under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import evolve

from stsvend import sts
from stsvend.meter import Meter, MeterProfile, RegisterKind
from stsvend.sts.codec import block_to_digits
from stsvend.sts.crc import token_crc

__all__ = [
    "T0",
    "VK1",
    "VK2",
    "VK160",
    "Vendor",
    "drn_with",
    "identity",
    "key_data",
    "make_meter",
    "make_profile",
    "raw_token",
]

#: Published DKGA02 test vending keys (SGC 123456) and the DKGA04 160-bit key.
VK1 = bytes.fromhex("abababababababab")
VK2 = bytes.fromhex("9494949494949494")
VK160 = bytes.fromhex("abababababababab949494949494949401234567")
#: A date inside base date 1993 (which ends 2024-11-24 20:15 UTC).
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def drn_with(manufacturer: str, serial: str = "00001234") -> str:
    """A DRN with a correct Luhn check digit (2- or 4-digit manufacturer code)."""
    body = manufacturer + serial
    return body + str(sts.luhn_check_digit(body))


def identity(drn: str = "00000000000") -> sts.MeterIdentity:
    return sts.MeterIdentity.parse(None, drn)


def key_data(**changes: Any) -> sts.KeyData:
    base = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=1993)
    return evolve(base, **changes)


def make_profile(
    *,
    drn: str = "00000000000",
    data: sts.KeyData | None = None,
    vending_key: bytes = VK1,
    dkga: str = "02",
    **settings: Any,
) -> MeterProfile:
    return MeterProfile.derive(identity(drn), data or key_data(), vending_key, dkga, **settings)


def make_meter(
    profile: MeterProfile | None = None,
    at: datetime = T0,
    credit: dict[RegisterKind, int] | None = None,
    **settings: Any,
) -> Meter:
    return Meter.manufacture(profile or make_profile(**settings), at, credit)


class Vendor:
    """Issues tokens for one meter like a vending system: strictly increasing TIDs, RND 5."""

    def __init__(self, profile: MeterProfile, vending_key: bytes = VK1, dkga: str = "02") -> None:
        self.identity = profile.identity
        self.data = profile.key_data
        self.key = profile.decoder_key
        self.vending_key = vending_key
        self.dkga = dkga
        self.last_tid: int | None = None

    def tid(self, at: datetime) -> int:
        tid = sts.vendable_tid(sts.tid_at(at, self.data.base_date), self.last_tid)
        self.last_tid = tid
        return tid

    def credit(
        self, tenths: int, at: datetime, resource: sts.Resource = sts.Resource.ELECTRICITY
    ) -> str:
        return sts.credit_token(self.key, resource, tenths, tid=self.tid(at), rnd=5)

    def currency(
        self, amount: int, at: datetime, resource: sts.Resource = sts.Resource.ELECTRICITY
    ) -> str:
        return sts.currency_credit_token(self.key, resource, amount, tid=self.tid(at))

    def key_change(
        self,
        *,
        vending_key: bytes | None = None,
        rollover: bool = False,
        with_sgc: bool = False,
        **changes: Any,
    ) -> tuple[str, ...]:
        """The key change set to new key data; the vendor moves to the new key."""
        new_data = evolve(self.data, **changes)
        if rollover:
            new_data = evolve(new_data, base_date=self.data.base_date.next)
        vk = vending_key or self.vending_key
        new_key = sts.derive_decoder_key(vk, self.identity, new_data, self.dkga)
        tokens = sts.key_change_tokens(
            self.key, new_key, new_data, rollover=rollover, with_sgc=with_sgc
        )
        self.data, self.key, self.vending_key = new_data, new_key, vk
        if rollover:
            self.last_tid = None
        return tokens


def raw_token(token_class: int, payload: int, key: sts.DecoderKey | None) -> str:
    """A token from a raw 48-bit payload (subclass in its top 4 bits), for shapes the typed
    encoders refuse to make: reserved subclasses, non-zero padding, out-of-range fields."""
    block = (payload << 16) | token_crc(token_class, payload)
    if key is not None:
        block = key.encrypt_block(block)
    return block_to_digits(token_class, block)
