"""Properties over every token type and field range (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from stsvend import sts
from stsvend.errors import CrcError, StsError, TokenFormatError
from stsvend.sts import amount, codec, sta
from stsvend.sts.layouts import Layout
from tests.strategies import decoder_keys, token_and_key


@given(token_and_key())
@settings(max_examples=1500)
def test_decode_encode_is_identity_for_every_token_type(
    case: tuple[Layout, dict[str, int], sts.DecoderKey | None],
) -> None:
    layout, fields, key = case
    token = codec.encode_token(layout.token_class, layout.subclass, fields, key)
    assert len(token) == 20 and token.isdigit()
    decoded = codec.decode_token(token, key)
    assert (decoded.token_class, decoded.subclass) == (layout.token_class, layout.subclass)
    assert decoded.fields == fields


@given(st.integers(0, amount.AMOUNT_MAX))
@example(0)
@example(16383)
@example(16384)
@example(180214)
@example(180215)
@example(180223)
@example(180224)
@example(1818524)
@example(1818525)
@example(1818623)
@example(1818624)
@example(amount.AMOUNT_MAX)
def test_amount_rounds_up_by_less_than_one_step(value: int) -> None:
    decoded = amount.decode_amount(amount.encode_amount(value))
    assert value <= decoded < value + amount.amount_step(value)
    floor = amount.encodable_at_most(value)
    assert value - amount.amount_step(value) < floor <= value
    assert amount.decode_amount(amount.encode_amount(floor)) == floor


@given(st.integers(0, 0xFFFF))
def test_every_amount_field_round_trips(field: int) -> None:
    assert amount.encode_amount(amount.decode_amount(field)) == field


@given(st.integers(-amount.CURRENCY_AMOUNT_MAX, amount.CURRENCY_AMOUNT_MAX))
@example(0)
@example(1)
@example(-1)
@example(-180224)
def test_currency_amount_rounds_toward_plus_infinity(value: int) -> None:
    field, se = amount.encode_currency_amount(value)
    decoded = amount.decode_currency_amount(field, se)
    assert decoded >= value
    # Within one step of the band of the value's magnitude.
    magnitude = abs(value)
    e = 0
    while e < 31 and magnitude >= amount._OFFSETS[e + 1]:
        e += 1
    assert decoded - value < 10**e


@given(st.integers(0, 0xFFFF), st.integers(0, 0xF))
def test_every_currency_field_round_trips(field: int, se: int) -> None:
    value = amount.decode_currency_amount(field, se)
    assume(value != 0 or se == 0)  # minus zero has no encoding of its own
    assert amount.encode_currency_amount(value) == (field, se)


@given(decoder_keys("07"), st.integers(0, 2**64 - 1))
def test_sta_fast_equals_reference(key: sts.DecoderKey, block: int) -> None:
    k = int.from_bytes(key.value, "big")
    encrypted = sta.reference_encrypt(k, block)
    assert sta.sta_encrypt(k, block) == encrypted
    assert sta.sta_decrypt(k, encrypted) == block
    assert sta.reference_decrypt(k, encrypted) == block


@given(token_and_key(), st.data())
@settings(max_examples=500)
def test_a_wrong_key_is_refused_or_reads_differently(
    case: tuple[Layout, dict[str, int], sts.DecoderKey | None], data: Any
) -> None:
    layout, fields, key = case
    assume(key is not None)
    assert key is not None
    other = data.draw(decoder_keys(key.ea.value))
    assume(other != key)
    token = codec.encode_token(layout.token_class, layout.subclass, fields, key)
    try:
        decoded = codec.decode_token(token, other)
    except StsError:
        return
    # A 2**-16 chance: the CRC matched by luck; the fields are then not the ones sent.
    assert (decoded.subclass, decoded.fields) != (layout.subclass, fields)


@given(token_and_key(), st.integers(0, 19), st.integers(1, 9))
@settings(max_examples=500)
def test_a_mistyped_digit_is_refused_or_reads_differently(
    case: tuple[Layout, dict[str, int], sts.DecoderKey | None], position: int, delta: int
) -> None:
    layout, fields, key = case
    token = codec.encode_token(layout.token_class, layout.subclass, fields, key)
    digit = (int(token[position]) + delta) % 10
    typo = token[:position] + str(digit) + token[position + 1 :]
    try:
        decoded = codec.decode_token(typo, key)
    except StsError:
        return
    assert (decoded.token_class, decoded.subclass, decoded.fields) != (
        layout.token_class, layout.subclass, fields
    )  # fmt: skip


@given(token_and_key(), st.integers(0, 15))
def test_a_corrupted_crc_is_refused(
    case: tuple[Layout, dict[str, int], sts.DecoderKey | None], bit: int
) -> None:
    layout, fields, key = case
    token = codec.encode_token(layout.token_class, layout.subclass, fields, key)
    token_class, block = codec.digits_to_block(token)
    plain = key.decrypt_block(block) if key is not None and token_class != 1 else block
    bad = plain ^ (1 << bit)
    sealed = key.encrypt_block(bad) if key is not None and token_class != 1 else bad
    with pytest.raises(CrcError):
        codec.decode_token(codec.block_to_digits(token_class, sealed), key)


@given(st.integers(0, 2**66 - 1))
def test_transposition_is_a_bijection(value: int) -> None:
    token = f"{value:020d}"
    token_class, block = codec.digits_to_block(token)
    assert codec.block_to_digits(token_class, block) == token


@given(st.integers(2**66, 10**20 - 1))
def test_numbers_at_or_above_two_to_the_66_are_not_tokens(value: int) -> None:
    with pytest.raises(TokenFormatError):
        codec.digits_to_block(f"{value:020d}")


def test_false_accept_rate_of_random_tokens_is_about_two_to_the_minus_16() -> None:
    """20,000 random 66-bit numbers against one key: a CRC match is a 2**-16 event.

    (The million-trial measurement is ``benchmarks/measure_false_accept.py``.)
    """
    import random

    rng = random.Random(20261125)
    key = sts.DecoderKey(bytes.fromhex("0abc12def3456789"))
    accepted = 0
    for _ in range(20000):
        try:
            codec.decode_token(f"{rng.getrandbits(66):020d}", key)
        except StsError:
            continue
        accepted += 1
    # Expected about 0.3 (class 1 numbers are unencrypted but still CRC-checked); 6 or more
    # would happen by chance with probability < 1e-6.
    assert accepted <= 5
