"""Key check values: known answers, the DES/HMAC split, formats and refusals."""

from __future__ import annotations

import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend import sts
from stsvend.errors import KeyMaterialError
from stsvend.keystore.kcv import decoder_key_check_value, normalise_kcv, vending_key_check_value
from tests.keystore.conftest import VK_94, VK_160, VK_AB

# fmt: off
KNOWN = [
    # The banking convention's textbook value: DES key 0123456789ABCDEF encrypts zeros to D5D44F…
    ("0123456789abcdef", "02", "D5D44F"),
    (VK_AB, "02", "C33F45"),
    (VK_94, "02", "31CE7A"),
    # 160-bit keys: HMAC-SHA-256(key, 8 zero bytes), first 3 bytes.
    (VK_160, "04", hmac.digest(bytes.fromhex(VK_160), bytes(8), "sha256")[:3].hex().upper()),
]
# fmt: on


@pytest.mark.parametrize(("key", "dkga", "kcv"), KNOWN)
def test_vending_key_check_values(key: str, dkga: str, kcv: str) -> None:
    assert vending_key_check_value(bytes.fromhex(key), dkga) == kcv


def test_160_bit_kcv_is_the_documented_value() -> None:
    assert vending_key_check_value(bytes.fromhex(VK_160), sts.DKGA.DKGA04) == "0F353D"


def test_des_kcv_ignores_parity_bits_as_des_does() -> None:
    # DES ignores each byte's low bit, so keys that differ only there share a KCV.
    assert vending_key_check_value(bytes.fromhex("abababababababab"), "02") == (
        vending_key_check_value(bytes.fromhex("aaaaaaaaaaaaaaaa"), "02")
    )


def test_decoder_key_kcv_uses_every_bit() -> None:
    a = sts.DecoderKey.from_hex("abababababababab")
    b = sts.DecoderKey.from_hex("aaaaaaaaaaaaaaaa")
    assert decoder_key_check_value(a) != decoder_key_check_value(b)


@given(st.binary(min_size=8, max_size=8))
def test_decoder_key_kcv_is_the_documented_mac(raw: bytes) -> None:
    kcv = decoder_key_check_value(sts.DecoderKey(raw))
    assert normalise_kcv(kcv) == kcv
    assert kcv == hmac.new(raw, bytes(8), "sha256").hexdigest()[:6].upper()


def test_ea11_decoder_key_kcv() -> None:
    key = sts.DecoderKey(bytes(range(16)), sts.EA.MISTY1)
    assert (
        decoder_key_check_value(key)
        == hmac.digest(bytes(range(16)), bytes(8), "sha256")[:3].hex().upper()
    )


@pytest.mark.parametrize(
    ("key", "dkga"),
    [(bytes(7), "02"), (bytes(20), "02"), (bytes(8), "04"), ("abababababababab", "02")],
)
def test_wrong_key_sizes_are_refused(key: bytes, dkga: str) -> None:
    with pytest.raises(KeyMaterialError, match="vending key is"):
        vending_key_check_value(key, dkga)


def test_unknown_dkga_is_refused() -> None:
    with pytest.raises(KeyMaterialError, match="dkga"):
        vending_key_check_value(bytes(8), "03")


@pytest.mark.parametrize("text", ["", "12345", "1234567", "GGGGGG", None, 123456, "12 345"])
def test_malformed_kcvs_are_refused(text: object) -> None:
    with pytest.raises(KeyMaterialError, match="6 hexadecimal digits"):
        normalise_kcv(text)
