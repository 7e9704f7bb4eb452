"""Every refusal of the core, with the error class and a message a tester understands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from stsvend import sts
from stsvend.errors import (
    AmountError,
    CheckDigitError,
    CrcError,
    FieldRangeError,
    IdentityError,
    InputError,
    KeyExpiredError,
    KeyMaterialError,
    StsError,
    TidError,
    TokenFormatError,
    UnsupportedTokenError,
)
from stsvend.sts import batch, codec, sta_tables
from stsvend.sts.keys import DecoderKey
from stsvend.sts.misty1 import Misty1
from stsvend.sts.sta import Sta

KEY07 = sts.DecoderKey.from_hex("0abc12def3456789")
KEY11 = sts.DecoderKey.from_hex("00112233445566778899aabbccddeeff", "11")
METER = sts.MeterIdentity.parse("600727", "00000000000")
DATA = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)


@pytest.mark.parametrize(
    ("token", "match"),
    [
        ("", "20 decimal digits"),
        ("1234567890123456789", "20 decimal digits"),
        ("123456789012345678901", "20 decimal digits"),
        ("1234567890123456789a", "20 decimal digits"),
        ("１２３４５６７８９０１２３４５６７８９０", "20 decimal digits"),  # full-width digits
        ("73786976294838206464", "2\\*\\*66"),
        ("99999999999999999999", "2\\*\\*66"),
    ],
)
def test_not_a_token(token: str, match: str) -> None:
    with pytest.raises(TokenFormatError, match=match):
        sts.decode_token(token, KEY07)


def test_grouped_digits_are_accepted() -> None:
    token = sts.credit_token(KEY07, sts.Resource.ELECTRICITY, 5, tid=1, rnd=0)
    spaced = " ".join(token[i : i + 4] for i in range(0, 20, 4))
    assert sts.decode_token(spaced, KEY07).fields["amount_field"] == 5


def test_wrong_key_is_a_crc_error() -> None:
    token = sts.credit_token(KEY07, sts.Resource.ELECTRICITY, 5, tid=1, rnd=0)
    other = sts.DecoderKey.from_hex("1111111111111111")
    with pytest.raises(CrcError, match="wrong key"):
        sts.decode_token(token, other)


def test_class_3_is_reserved() -> None:
    value = 3 << 27
    with pytest.raises(UnsupportedTokenError, match="class 3"):
        sts.decode_token(f"{value:020d}", KEY07)


@pytest.mark.parametrize(("token_class", "subclass"), [(0, 8), (0, 15), (1, 3), (2, 10), (2, 15)])
def test_unsupported_subclasses(token_class: int, subclass: int) -> None:
    with pytest.raises(UnsupportedTokenError, match=f"subclass {subclass}"):
        sts.encode_token(token_class, subclass, {}, KEY07)


def test_decoding_an_unsupported_subclass_with_a_good_crc_is_a_function_error() -> None:
    from stsvend.sts.crc import token_crc

    payload = 8 << 44
    block = KEY07.encrypt_block((payload << 16) | token_crc(0, payload))
    with pytest.raises(UnsupportedTokenError) as err:
        sts.decode_token(codec.block_to_digits(0, block), KEY07)
    assert err.value.code == "function"


def test_ea11_layouts_are_refused_for_ea07_keys() -> None:
    with pytest.raises(UnsupportedTokenError, match="not defined for EA07"):
        sts.encode_token(2, 9, {"sgcho": 1, "nkmo2": 2}, KEY07)


def test_encrypted_types_need_a_key() -> None:
    with pytest.raises(UnsupportedTokenError, match="key"):
        sts.encode_token(0, 0, {"rnd": 0, "tid": 0, "amount_field": 0}, None)
    token = sts.credit_token(KEY07, sts.Resource.ELECTRICITY, 5, tid=1, rnd=0)
    with pytest.raises(UnsupportedTokenError, match="key"):
        sts.decode_token(token, None)


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"rnd": 16, "tid": 0, "amount_field": 0}, FieldRangeError, "rnd is outside 4 bits"),
        ({"rnd": -1, "tid": 0, "amount_field": 0}, FieldRangeError, "rnd is outside"),
        ({"rnd": 0, "tid": 2**24, "amount_field": 0}, TidError, "tid is outside 24 bits"),
        ({"rnd": 0, "tid": 0, "amount_field": 2**16}, FieldRangeError, "amount_field"),
        ({"rnd": 0, "tid": 0}, FieldRangeError, "amount_field is missing"),
        ({"rnd": 0, "tid": 0, "amount_field": 1.0}, FieldRangeError, "integer"),
        ({"rnd": True, "tid": 0, "amount_field": 1}, FieldRangeError, "integer"),
    ],
)
def test_field_ranges(fields: dict[str, Any], error: type[StsError], match: str) -> None:
    with pytest.raises(error, match=match):
        sts.encode_token(0, 0, fields, KEY07)


def test_reserved_padding_must_be_zero() -> None:
    from stsvend.sts.crc import token_crc

    payload = (8 << 44) | (123456 << 20) | 1  # pad bit set in an EA07 SGC token
    block = KEY07.encrypt_block((payload << 16) | token_crc(2, payload))
    with pytest.raises(TokenFormatError, match="reserved bits"):
        sts.decode_token(codec.block_to_digits(2, block), KEY07)


@pytest.mark.parametrize(
    ("value", "match"),
    [(-1, "negative"), (18201625, "cannot be encoded"), (1.5, "integer"), (True, "integer")],
)
def test_amounts_that_cannot_be_encoded(value: Any, match: str) -> None:
    with pytest.raises(AmountError, match=match):
        sts.encode_amount(value)
    with pytest.raises(AmountError):
        sts.credit_token(KEY07, sts.Resource.ELECTRICITY, value, tid=1, rnd=1)


def test_currency_amount_refusals() -> None:
    with pytest.raises(AmountError, match="too large"):
        sts.encode_currency_amount(sts.amount.CURRENCY_AMOUNT_MAX + 1)
    with pytest.raises(AmountError, match="integer"):
        sts.encode_currency_amount(0.5)  # type: ignore[arg-type]
    with pytest.raises(AmountError, match="16 bits"):
        sts.decode_currency_amount(2**16, 0)
    with pytest.raises(AmountError, match="4 bits"):
        sts.decode_currency_amount(0, 16)
    with pytest.raises(AmountError, match="16 bits"):
        sts.decode_amount(-1)
    with pytest.raises(AmountError, match="negative"):
        sts.encodable_at_most(-1)


def test_tid_refusals() -> None:
    base = sts.BaseDate.Y1993
    with pytest.raises(TidError, match="timezone-aware"):
        sts.tid_at(datetime(2020, 1, 1), base)
    with pytest.raises(TidError, match="before the base date"):
        sts.tid_at(datetime(1992, 12, 31, 23, 59, tzinfo=UTC), base)
    with pytest.raises(TidError, match="rollover"):
        sts.tid_at(base.last_minute + timedelta(minutes=1), base)
    assert sts.tid_at(base.last_minute, base) == sts.TID_MAX
    # Another zone is converted, not misread.
    east = timezone(timedelta(hours=3))
    assert sts.tid_at(datetime(1993, 1, 1, 3, 0, tzinfo=east), base) == 0
    with pytest.raises(TidError, match="24 bits"):
        sts.datetime_of_tid(2**24, base)
    with pytest.raises(TidError, match="no TID is left"):
        sts.vendable_tid(sts.TID_MAX, last_issued=sts.TID_MAX)
    with pytest.raises(TidError, match="1993, 2014 or 2035"):
        sts.BaseDate.parse(2000)
    with pytest.raises(TidError, match="1993, 2014 or 2035"):
        sts.BaseDate.parse("x")
    with pytest.raises(TidError, match="after 2035"):
        _ = sts.BaseDate.Y2035.next


def test_ken_refusal() -> None:
    sts.check_key_expiry(0x55FFFF, 85)
    with pytest.raises(KeyExpiredError, match="expired"):
        sts.check_key_expiry(0x560000, 85)
    with pytest.raises(KeyExpiredError, match="0-255"):
        sts.check_key_expiry(0, 256)


@pytest.mark.parametrize(
    ("iin", "drn", "error", "match"),
    [
        ("600727", "01234567890", CheckDigitError, "should end in 7"),
        ("600727", "0123456789", IdentityError, "11 or 13 digits"),
        ("600727", "0123456789a", IdentityError, "decimal digits"),
        ("600727", "0100000000008", IdentityError, "needs iin 0000"),
        ("60072", "01234567897", IdentityError, "18-digit PAN"),
        ("0000", "01234567897", IdentityError, "18-digit PAN"),
        ("12345a", "01234567897", IdentityError, "18-digit PAN"),
    ],
)
def test_meter_identity_refusals(iin: str, drn: str, error: type[StsError], match: str) -> None:
    with pytest.raises(error, match=match):
        sts.MeterIdentity.parse(iin, drn)


def test_luhn_refuses_non_digits() -> None:
    with pytest.raises(IdentityError):
        sts.luhn_check_digit("12a")


def test_the_published_bad_pan_is_refused() -> None:
    # CTSA17: PAN "1234567890411111111113" is not a meter number.
    with pytest.raises(IdentityError):
        sts.MeterIdentity.parse("12345", "67890411111111113")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"krn": 0}, "krn is outside 1-9"),
        ({"krn": 10}, "krn is outside 1-9"),
        ({"ti": 100}, "ti is outside 0-99"),
        ({"ti": "x"}, "ti must be an integer"),
        ({"ti": 1.7}, "ti must be an integer"),
        ({"krn": float("inf")}, "krn must be an integer"),
        ({"key_type": [2]}, "key type must be an integer"),
        ({"base_date": 2014.0}, "base date"),
        ({"sgc": "1234567"}, "sgc must be up to 6 digits"),
        ({"sgc": True}, "sgc"),
        ({"key_type": 4}, "key type is outside 0-3"),
        ({"ken": 256}, "ken is outside 0-255"),
        ({"ea": "09"}, "ea must be 07"),
        ({"base_date": 1990}, "base date"),
    ],
)
def test_key_data_refusals(kwargs: dict[str, Any], match: str) -> None:
    base: dict[str, Any] = {"sgc": 123456, "ti": 1, "krn": 1, "key_type": 2}
    with pytest.raises((KeyMaterialError, TidError), match=match):
        sts.KeyData(**{**base, **kwargs})


def test_derivation_refusals() -> None:
    with pytest.raises(KeyMaterialError, match="8 bytes, got 7"):
        sts.derive_decoder_key(bytes(7), METER, DATA)
    with pytest.raises(KeyMaterialError, match="20 bytes"):
        sts.derive_decoder_key(bytes(8), METER, DATA, "04")
    with pytest.raises(KeyMaterialError, match="dkga must be 02 or 04"):
        sts.derive_decoder_key(bytes(8), METER, DATA, "01")
    ea11 = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, ea="11")
    with pytest.raises(KeyMaterialError, match="EA11 needs DKGA04"):
        sts.derive_decoder_key(bytes(8), METER, ea11, "02")
    with pytest.raises(KeyMaterialError, match="not bytes"):
        sts.derive_decoder_key("abababababababab", METER, DATA)  # type: ignore[arg-type]


def test_decoder_key_refusals_and_secrecy() -> None:
    with pytest.raises(KeyMaterialError, match="8 bytes, got 16"):
        sts.DecoderKey(bytes(16), "07")
    with pytest.raises(KeyMaterialError, match="16 bytes, got 8"):
        sts.DecoderKey(bytes(8), "11")
    with pytest.raises(KeyMaterialError, match="hexadecimal"):
        sts.DecoderKey.from_hex("xyz")
    assert "0abc" not in repr(KEY07) and "0abc" not in str(KEY07)
    with pytest.raises(KeyMaterialError):
        Sta(bytes(7))
    with pytest.raises(FieldRangeError):
        Sta(1).encrypt_block(2**64)
    with pytest.raises(KeyMaterialError):
        Misty1(bytes(8))


def test_key_change_set_refusals() -> None:
    new07 = sts.KeyData(sgc=123456, ti=2, krn=1, key_type=2)
    with pytest.raises(KeyMaterialError, match="EA differs"):
        sts.key_change_tokens(KEY07, KEY11, new07)
    new11 = sts.KeyData(sgc=123456, ti=2, krn=1, key_type=2, ea="11")
    with pytest.raises(KeyMaterialError, match="cannot change the encryption algorithm"):
        sts.key_change_tokens(KEY07, KEY11, new11)


def test_test_token_refusals() -> None:
    with pytest.raises(FieldRangeError, match="2-digit"):
        sts.test_token(1, four_digit=True, extended=True)
    with pytest.raises(FieldRangeError, match="manufacturer_code is outside 8 bits"):
        sts.test_token(1, 256)
    with pytest.raises(FieldRangeError, match="control is outside 28 bits"):
        sts.test_token(2**28, four_digit=True)


def test_sta_table_refusals() -> None:
    with pytest.raises(KeyMaterialError, match=r"permute 0\.\.15"):
        sta_tables.StaTables("bad", (*range(15), 0), tuple(range(16)), tuple(range(64)))
    with pytest.raises(KeyMaterialError, match=r"permute 0\.\.63"):
        sta_tables.StaTables("bad", tuple(range(16)), tuple(range(16)), (*range(63), 0))
    with pytest.raises(KeyMaterialError, match="cannot read"):
        sta_tables.parse_sta_tables('{"s1": [1]}', json_text=True)
    with pytest.raises(KeyMaterialError, match="cannot read"):
        sta_tables.parse_sta_tables(b"s1 = [")
    with pytest.raises(KeyMaterialError, match="cannot read"):
        sta_tables.parse_sta_tables({"s1": list(range(16)), "s2": list(range(16)), "p": None})


def test_sta_tables_parse_from_toml_json_and_mappings() -> None:
    t = sta_tables.SAMPLE
    toml = f'name = "issued"\ns1 = {list(t.s1)}\ns2 = {list(t.s2)}\np = {list(t.p)}\n'
    loaded = sta_tables.parse_sta_tables(toml.encode())
    assert (loaded.name, loaded.s1, loaded.s2, loaded.p) == ("issued", t.s1, t.s2, t.p)
    js = f'{{"s1": {list(t.s1)}, "s2": {list(t.s2)}, "p": {list(t.p)}}}'
    assert sta_tables.parse_sta_tables(js, json_text=True, name="given").name == "given"
    as_map = {"s1": list(t.s1), "s2": list(t.s2), "p": list(t.p)}
    assert sta_tables.parse_sta_tables(as_map, name="sample") == t


def test_sta_tables_travel_with_the_key() -> None:
    """A parsed set drives the cipher of the keys that carry it, and no other key."""
    loaded = sta_tables.parse_sta_tables(
        {"s1": list(sta_tables.SAMPLE.s1), "s2": list(sta_tables.SAMPLE.s2),
         "p": list(sta_tables.SAMPLE.p)}
    )  # fmt: skip
    key = 0x0ABC12DEF3456789
    block = 0x0B19EB230100C207
    assert Sta(key, loaded).encrypt_block(block) == 0xC45ED1619406DF95
    issued = DecoderKey(key.to_bytes(8, "big"), tables=loaded)
    published = DecoderKey(key.to_bytes(8, "big"))
    assert issued.encrypt_block(block) == 0xC45ED1619406DF95
    assert published.encrypt_block(block) != 0xC45ED1619406DF95
    assert issued != published
    token = sts.credit_token(issued, sts.Resource.ELECTRICITY, 10, tid=5, rnd=1)
    assert sts.decode_token(token, issued).fields["amount_field"] == 10
    with pytest.raises(CrcError):
        sts.decode_token(token, published)


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("not an object", "input"),
        ({"id": 1}, "input"),
        ({"id": 1, "token_class": "0", "subclass": 0}, "input"),
        ({"id": 1, "token_class": 0, "subclass": 0, "ea": "07", "key": [1]}, "input"),
        ({"id": 1, "token_class": 0, "subclass": 0, "ea": "07", "key": {"decoder_key": [1]}},
         "input"),
        ({"id": 1, "token_class": 0, "subclass": 0, "ea": "07",
          "key": {"decoder_key": "0abc12def3456789"}, "fields": []}, "input"),
        ({"id": 1, "token_class": 0, "subclass": 0, "ea": "07",
          "key": {"decoder_key": "0abc12def3456789"},
          "fields": {"rnd": 1, "tid": 1, "amount_field": 1, "transfer_amount": 2}}, "range"),
        ({"id": 1, "token_class": 2, "subclass": 3, "ea": "07",
          "key": {"decoder_key": "0abc12def3456789"},
          "fields": {"ken": 255, "new_krn": 1, "ro": 0, "res": 0, "new_kt": 2}}, "range"),
        ({"id": 1, "token_class": 2, "subclass": 3, "ea": "07",
          "key": {"decoder_key": "0abc12def3456789"},
          "fields": {"ken": 256, "new_krn": 1, "ro": 0, "res": 0, "new_kt": 2,
                     "new_decoder_key": "0abc12def3456789"}}, "range"),
        ({"id": 1, "token_class": 0, "subclass": 0, "ea": "07",
          "key": {"dkga": "02", "vending_key": "zz", "iin": "600727", "drn": "00000000000",
                  "key_type": 2, "sgc": 123456, "ti": 1, "krn": 1}}, "input"),
    ],
)  # fmt: skip
def test_batch_refusals(case: Any, code: str) -> None:
    out = batch.encode_case(case)
    assert out["error"]["code"] == code, out
    assert out["error"]["message"]


def test_batch_decode_and_derive_refusals() -> None:
    assert batch.decode_case({"id": 1, "token": 5, "ea": None, "key": None})["error"]["code"] == (
        "format"
    )
    assert batch.derive_case({"id": 1, "key": None, "ea": "07"})["error"]["code"] == "input"
    assert batch.derive_case({"id": 1})["error"]["code"] == "input"


def test_errors_pickle_and_carry_codes() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(CheckDigitError("drn check digit is wrong")))
    assert isinstance(err, CheckDigitError) and err.message == "drn check digit is wrong"
    assert InputError().code == "input" and str(InputError()) == InputError.default_message
