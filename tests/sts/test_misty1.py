"""Tests for the EA11 cipher, MISTY1 (RFC 2994): tables, vectors, properties, errors.

The fast class is checked against published vectors and against ``_Reference`` below, a
deliberately plain transcription of the RFC (32-word expanded key, FI computed from S7/S9 on
every call, 32-bit FO/FL halves, bytes in and out) that shares no code with the module.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsvend.errors import FieldRangeError, KeyMaterialError
from stsvend.sts import misty1 as misty1_module
from stsvend.sts.misty1 import S7, S9, Misty1

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "components.json"
RFC_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
BLOCK_MAX = 2**64 - 1


def load_cases(kind: str) -> list[dict[str, Any]]:
    """Every case of one ``kind`` in the shared component vector file."""
    cases: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [case for case in cases if case["kind"] == kind]


MISTY1_CASES = load_cases("misty1")


class _Reference:
    """RFC 2994 section 2, written out as literally as possible; slow on purpose."""

    def __init__(self, key: bytes) -> None:
        ek = [key[i * 2] * 256 + key[i * 2 + 1] for i in range(8)] + [0] * 24
        for i in range(8):
            ek[i + 8] = self.fi(ek[i], ek[(i + 1) % 8])
            ek[i + 16] = ek[i + 8] & 0x1FF
            ek[i + 24] = ek[i + 8] >> 9
        self.ek = ek

    @staticmethod
    def fi(fi_in: int, fi_key: int) -> int:
        d9 = fi_in >> 7
        d7 = fi_in & 0x7F
        d9 = S9[d9] ^ d7
        d7 = S7[d7] ^ (d9 & 0x7F)
        d7 = d7 ^ (fi_key >> 9)
        d9 = d9 ^ (fi_key & 0x1FF)
        d9 = S9[d9] ^ d7
        return (d7 << 9) | d9

    def fo(self, fo_in: int, k: int) -> int:
        ek = self.ek
        t0 = fo_in >> 16
        t1 = fo_in & 0xFFFF
        t0 = t0 ^ ek[k]
        t0 = self.fi(t0, ek[(k + 5) % 8 + 8])
        t0 = t0 ^ t1
        t1 = t1 ^ ek[(k + 2) % 8]
        t1 = self.fi(t1, ek[(k + 1) % 8 + 8])
        t1 = t1 ^ t0
        t0 = t0 ^ ek[(k + 7) % 8]
        t0 = self.fi(t0, ek[(k + 3) % 8 + 8])
        t0 = t0 ^ t1
        t1 = t1 ^ ek[(k + 4) % 8]
        return (t1 << 16) | t0

    def _fl_keys(self, k: int) -> tuple[int, int]:
        ek = self.ek
        if k % 2 == 0:
            return ek[k // 2], ek[(k // 2 + 6) % 8 + 8]
        return ek[((k - 1) // 2 + 2) % 8 + 8], ek[((k - 1) // 2 + 4) % 8]

    def fl(self, fl_in: int, k: int) -> int:
        key_and, key_or = self._fl_keys(k)
        d0 = fl_in >> 16
        d1 = fl_in & 0xFFFF
        d1 = d1 ^ (d0 & key_and)
        d0 = d0 ^ (d1 | key_or)
        return (d0 << 16) | d1

    def flinv(self, fl_in: int, k: int) -> int:
        key_and, key_or = self._fl_keys(k)
        d0 = fl_in >> 16
        d1 = fl_in & 0xFFFF
        d0 = d0 ^ (d1 | key_or)
        d1 = d1 ^ (d0 & key_and)
        return (d0 << 16) | d1

    def encrypt(self, plaintext: bytes) -> bytes:
        d0 = int.from_bytes(plaintext[:4], "big")
        d1 = int.from_bytes(plaintext[4:], "big")
        for i in range(8):
            if i % 2 == 0:
                d0 = self.fl(d0, i)
                d1 = self.fl(d1, i + 1)
                d1 = d1 ^ self.fo(d0, i)
            else:
                d0 = d0 ^ self.fo(d1, i)
        d0 = self.fl(d0, 8)
        d1 = self.fl(d1, 9)
        return d1.to_bytes(4, "big") + d0.to_bytes(4, "big")

    def decrypt(self, ciphertext: bytes) -> bytes:
        d1 = int.from_bytes(ciphertext[:4], "big")
        d0 = int.from_bytes(ciphertext[4:], "big")
        d0 = self.flinv(d0, 8)
        d1 = self.flinv(d1, 9)
        for i in range(7, -1, -1):
            if i % 2 == 1:
                d0 = d0 ^ self.fo(d1, i)
            else:
                d1 = d1 ^ self.fo(d0, i)
                d0 = self.flinv(d0, i)
                d1 = self.flinv(d1, i + 1)
        return d0.to_bytes(4, "big") + d1.to_bytes(4, "big")


def _table_digest(table: tuple[int, ...]) -> str:
    return hashlib.sha256(",".join(str(v) for v in table).encode("ascii")).hexdigest()


# --- the S-boxes ---------------------------------------------------------------------------


def test_s7_table_is_rfc_2994() -> None:
    assert len(S7) == 128
    assert sorted(S7) == list(range(128))  # a permutation
    assert _table_digest(S7) == "910977be2f1590c027d9fba4da10c5ccb1997668027c9ecac96241c88bec79ae"


def test_s9_table_is_rfc_2994() -> None:
    # A single wrong entry near the end still passes the RFC vectors, hence the digest.
    assert len(S9) == 512
    assert sorted(S9) == list(range(512))
    assert _table_digest(S9) == "a309374bfec243dae77a2abb39d5a687b36306f15429b101683984cdf4831dc9"


@pytest.mark.parametrize("fi_key", [0x0000, 0xFFFF, 0x1234, 0xFE01])
def test_fi_tables_equal_rfc_fi_for_every_input(fi_key: int) -> None:
    head = misty1_module._FI_HEAD
    tail = misty1_module._FI_TAIL
    assert len(head) == len(tail) == 0x10000
    for fi_in in range(0x10000):
        assert tail[head[fi_in] ^ fi_key] == _Reference.fi(fi_in, fi_key)


# --- published vectors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plaintext", "ciphertext"),
    [(0x0123456789ABCDEF, 0x8B1DA5F56AB3D07C), (0xFEDCBA9876543210, 0x04B68240B13BE95D)],
)
def test_rfc_2994_vectors(plaintext: int, ciphertext: int) -> None:
    cipher = Misty1(RFC_KEY)
    assert cipher.encrypt_block(plaintext) == ciphertext
    assert cipher.decrypt_block(ciphertext) == plaintext


def test_component_file_has_misty1_cases() -> None:
    assert len(MISTY1_CASES) >= 2


@pytest.mark.parametrize("case", MISTY1_CASES, ids=[case["id"] for case in MISTY1_CASES])
def test_component_vectors(case: dict[str, Any]) -> None:
    cipher = Misty1(bytes.fromhex(case["input"]["key_hex"]))
    plaintext = int(case["input"]["plaintext_hex"], 16)
    ciphertext = int(case["expected"]["ciphertext_hex"], 16)
    assert cipher.encrypt_block(plaintext) == ciphertext
    assert cipher.decrypt_block(ciphertext) == plaintext


def test_reference_reproduces_rfc_vector() -> None:
    # The oracle for the properties below must itself be right.
    ref = _Reference(RFC_KEY)
    assert ref.encrypt(bytes.fromhex("0123456789abcdef")) == bytes.fromhex("8b1da5f56ab3d07c")
    assert ref.decrypt(bytes.fromhex("04b68240b13be95d")) == bytes.fromhex("fedcba9876543210")


# --- properties ----------------------------------------------------------------------------

keys = st.binary(min_size=16, max_size=16)
blocks = st.integers(min_value=0, max_value=BLOCK_MAX)


@given(key=keys, block=blocks)
def test_decrypt_inverts_encrypt(key: bytes, block: int) -> None:
    cipher = Misty1(key)
    assert cipher.decrypt_block(cipher.encrypt_block(block)) == block
    assert cipher.encrypt_block(cipher.decrypt_block(block)) == block


@settings(max_examples=300)
@given(key=keys, block=blocks)
def test_fast_class_agrees_with_reference(key: bytes, block: int) -> None:
    cipher = Misty1(key)
    ref = _Reference(key)
    data = block.to_bytes(8, "big")
    assert cipher.encrypt_block(block) == int.from_bytes(ref.encrypt(data), "big")
    assert cipher.decrypt_block(block) == int.from_bytes(ref.decrypt(data), "big")


@pytest.mark.parametrize("block", [0, 1, BLOCK_MAX, 1 << 63, 0xFFFF, 0xFFFF << 48])
def test_extreme_blocks_match_reference(block: int) -> None:
    for key in (bytes(16), b"\xff" * 16, RFC_KEY):
        cipher = Misty1(key)
        ref = _Reference(key)
        data = block.to_bytes(8, "big")
        assert cipher.encrypt_block(block) == int.from_bytes(ref.encrypt(data), "big")
        assert cipher.decrypt_block(block) == int.from_bytes(ref.decrypt(data), "big")


def test_bytearray_key_is_accepted() -> None:
    # Runtime accepts a bytearray too (the annotation says bytes, as the interface does).
    cipher = Misty1(cast(bytes, bytearray(RFC_KEY)))
    assert cipher.encrypt_block(0x0123456789ABCDEF) == 0x8B1DA5F56AB3D07C


def test_repr_hides_the_key() -> None:
    assert RFC_KEY.hex() not in repr(Misty1(RFC_KEY))


# --- error paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 15, 17, 32])
def test_wrong_key_length(length: int) -> None:
    with pytest.raises(KeyMaterialError) as info:
        Misty1(bytes(length))
    assert str(info.value) == f"an EA11 (MISTY1) decoder key is 16 bytes, got {length}"
    assert info.value.code == "key"


@pytest.mark.parametrize("key", ["0123456789abcdef", None, 16, list(range(16))])
def test_non_bytes_key(key: object) -> None:
    with pytest.raises(KeyMaterialError, match="decoder key is 16 bytes"):
        Misty1(key)  # type: ignore[arg-type]


@pytest.mark.parametrize("block", [-1, 2**64, -(2**64), 2**80])
def test_block_out_of_range(block: int) -> None:
    cipher = Misty1(RFC_KEY)
    with pytest.raises(FieldRangeError) as info:
        cipher.encrypt_block(block)
    assert info.value.code == "range"
    with pytest.raises(FieldRangeError):
        cipher.decrypt_block(block)
