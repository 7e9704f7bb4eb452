"""``stsvend.sts``: IEC 62055-41 (STS) tokens, sans-IO.

The common jobs, each one call:

>>> from stsvend import sts
>>> meter = sts.MeterIdentity.parse("600727", "00000000000")
>>> data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
>>> key = sts.derive_decoder_key(bytes.fromhex("abababababababab"), meter, data)
>>> token = sts.credit_token(key, sts.Resource.ELECTRICITY, 1, tid=5871715, rnd=5)
>>> token
'23716100501183194197'
>>> sts.decode_token(token, key).fields
{'rnd': 5, 'tid': 5871715, 'amount_field': 1}

Lower layers, for test rigs and other vendors' formats: :mod:`~stsvend.sts.codec` (raw fields,
transposition), :mod:`~stsvend.sts.layouts` (the field tables), :mod:`~stsvend.sts.crc`,
:mod:`~stsvend.sts.amount`, :mod:`~stsvend.sts.tid`, :mod:`~stsvend.sts.sta` (EA07),
:mod:`~stsvend.sts.misty1` (EA11), :mod:`~stsvend.sts.keys` (DKGA02/04),
:mod:`~stsvend.sts.identity` (IIN, DRN, PAN, Luhn).
"""

from stsvend.sts.amount import (
    AMOUNT_MAX,
    decode_amount,
    decode_currency_amount,
    encodable_at_most,
    encode_amount,
    encode_currency_amount,
)
from stsvend.sts.codec import DecodedToken, decode_token, encode_token
from stsvend.sts.identity import MeterIdentity, luhn_check_digit
from stsvend.sts.keys import DKGA, EA, DecoderKey, KeyData, KeyType, derive_decoder_key
from stsvend.sts.tid import (
    TID_MAX,
    BaseDate,
    check_key_expiry,
    datetime_of_tid,
    is_reserved_tid,
    key_expired,
    tid_at,
    vendable_tid,
)
from stsvend.sts.tokens import (
    ClearRegister,
    Resource,
    clear_credit_token,
    clear_tamper_token,
    credit_token,
    currency_credit_token,
    key_change_tokens,
    max_power_limit_token,
    phase_unbalance_limit_token,
    tariff_rate_token,
    test_token,
    water_meter_factor_token,
)

__all__ = [
    "AMOUNT_MAX",
    "DKGA",
    "EA",
    "TID_MAX",
    "BaseDate",
    "ClearRegister",
    "DecodedToken",
    "DecoderKey",
    "KeyData",
    "KeyType",
    "MeterIdentity",
    "Resource",
    "check_key_expiry",
    "clear_credit_token",
    "clear_tamper_token",
    "credit_token",
    "currency_credit_token",
    "datetime_of_tid",
    "decode_amount",
    "decode_currency_amount",
    "decode_token",
    "derive_decoder_key",
    "encodable_at_most",
    "encode_amount",
    "encode_currency_amount",
    "encode_token",
    "is_reserved_tid",
    "key_change_tokens",
    "key_expired",
    "luhn_check_digit",
    "max_power_limit_token",
    "phase_unbalance_limit_token",
    "tariff_rate_token",
    "test_token",
    "tid_at",
    "vendable_tid",
    "water_meter_factor_token",
]
