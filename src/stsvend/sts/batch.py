"""The JSON case objects of the batch contract (``vectors/README.md``), as pure functions.

``stsvend token encode|decode --jsonl`` and ``stsvend key derive --jsonl`` are thin I/O loops
over :func:`encode_case`, :func:`decode_case` and :func:`derive_case`; the tests run the
published vectors through the same functions.  Each takes one parsed JSON object and returns
the output object (``{"id", "token"}``, ``{"id", "token_class", "subclass", "fields"}`` or
``{"id", "decoder_key"}``), or ``{"id", "error": {"code", "message"}}`` — never raises for bad
input.

Derived decoder keys are cached per distinct set of derivation inputs, so a batch that names
the same meter many times derives its key once.  Each line is judged alone: every key field is
checked for its exact JSON type before the cache is asked (1, 1.0 and true are equal Python keys,
so a lax cache would let an earlier line decide a later one), and the caches are type-exact.

>>> out = encode_case({"id": "a", "token_class": 1, "subclass": 0, "ea": None, "key": None,
...                    "fields": {"manufacturer_code": 0, "control": 1}})
>>> out["id"], len(out["token"])
('a', 20)
>>> decode_case({"id": "b", "token": "123", "ea": None, "key": None})["error"]["code"]
'format'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from stsvend.errors import FieldRangeError, InputError, StsError
from stsvend.sts.amount import (
    decode_amount,
    decode_currency_amount,
    encode_amount,
    encode_currency_amount,
)
from stsvend.sts.codec import decode_token, encode_token
from stsvend.sts.identity import MeterIdentity
from stsvend.sts.keys import EA, DecoderKey, KeyData, derive_decoder_key
from stsvend.sts.layouts import Layout, layout_for

__all__ = [
    "decode_case",
    "derive_case",
    "encode_case",
    "key_from_case",
    "meaningful_fields",
    "raw_fields",
]

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_HEX_FIELDS = frozenset({"nkho", "nklo", "nkmo1", "nkmo2"})
_DERIVATION_FIELDS = ("dkga", "vending_key", "iin", "drn", "key_type", "sgc", "ti", "krn",
                      "base_date")  # fmt: skip


@lru_cache(maxsize=256, typed=True)
def _key_data_cached(kt: Any, sgc: Any, ti: Any, krn: Any, bd: Any, ea: Any) -> KeyData:
    return KeyData(sgc=sgc, ti=ti, krn=krn, key_type=kt, ea=ea,
                   base_date=1993 if bd is None else bd)  # fmt: skip


@lru_cache(maxsize=64, typed=True)
def _vending_key_cached(vk: Any) -> bytes:
    if not isinstance(vk, str) or not _HEX.fullmatch(vk):
        raise InputError("vending_key must be a hexadecimal string")
    return bytes.fromhex(vk)


@lru_cache(maxsize=65536, typed=True)
def _derive_cached(
    dkga: Any, vk: Any, iin: Any, drn: Any, kt: Any, sgc: Any, ti: Any, krn: Any, bd: Any, ea: Any
) -> DecoderKey:
    # Batches name few supply groups and many meters: the key data and vending key are
    # shared (cached separately), the meter is parsed for each new line.
    data = _key_data_cached(kt, sgc, ti, krn, bd, ea)
    meter = MeterIdentity.parse(iin, drn)
    return derive_decoder_key(_vending_key_cached(vk), meter, data, dkga)


@lru_cache(maxsize=65536, typed=True)
def _decoder_key_cached(hex_key: Any, ea: Any) -> DecoderKey:
    return DecoderKey.from_hex(hex_key, ea)


def key_from_case(key: Any, ea: Any) -> DecoderKey | None:
    """The decoder key a case names: ``{"decoder_key": HEX}`` or derivation inputs."""
    if key is None:
        return None
    if not isinstance(key, Mapping):
        raise InputError("key must be an object or null")
    ea_parsed = EA.parse("07" if ea is None else _scalar("ea", ea))
    if "decoder_key" in key:
        return _decoder_key_cached(_text("decoder_key", key["decoder_key"]), ea_parsed)
    values = [_scalar(name, key.get(name)) for name in _DERIVATION_FIELDS]
    return _derive_cached(*values, ea_parsed)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"{name} must be a string, got {type(value).__name__}")
    return value


def _scalar(name: str, value: Any) -> Any:
    # A JSON string, a JSON integer or null: never a float or a boolean (which Python's
    # int() and hashing would quietly treat as the integer they round to).
    if value is None or isinstance(value, str) or type(value) is int:
        return value
    raise InputError(f"{name} must be a string or an integer, got {type(value).__name__}")


def _int(fields: Mapping[str, Any], name: str) -> int:
    value = fields[name]
    if type(value) is not int:
        raise FieldRangeError(f"{name} must be an integer, got {value!r}")
    return value


def _agree(raw: dict[str, int], name: str, value: int, source: str) -> None:
    if name in raw and raw[name] != value:
        raise FieldRangeError(f"{name} ({raw[name]}) and {source} ({value}) disagree")
    raw[name] = value


def _new_key_bytes(fields: Mapping[str, Any], ea: EA) -> bytes:
    if "new_decoder_key" in fields:
        return _decoder_key_cached(_text("new_decoder_key", fields["new_decoder_key"]), ea).value
    if "new_key" in fields:
        key = key_from_case(fields["new_key"], ea.value)
        assert key is not None
        return key.value
    raise FieldRangeError("a key change token needs new_decoder_key or new_key")


def raw_fields(layout: Layout, fields: Mapping[str, Any], ea: EA | None) -> dict[str, int]:
    """The layout's raw fields, computing any that are given in their meaningful form."""
    names = layout.field_names
    raw = {name: _int(fields, name) for name in names if name in fields}
    c, s = layout.token_class, layout.subclass
    if c == 0 and s <= 3 and "transfer_amount" in fields:
        _agree(raw, "amount_field", encode_amount(_int(fields, "transfer_amount")),
               "transfer_amount")  # fmt: skip
    elif c == 0 and s >= 4 and "currency_amount" in fields:
        field, se = encode_currency_amount(_int(fields, "currency_amount"))
        _agree(raw, "amount_field", field, "currency_amount")
        _agree(raw, "se", se, "currency_amount")
    elif c == 2 and s in (0, 6) and "watts" in fields:
        _agree(raw, "amount_field", encode_amount(_int(fields, "watts")), "watts")
    elif c == 2 and s in (3, 4, 8, 9):
        if "ken" in fields:
            ken = _int(fields, "ken")
            if not 0 <= ken <= 255:
                raise FieldRangeError(f"ken is outside 0-255 ({ken})")
            if s == 3:
                _agree(raw, "kenho", ken >> 4, "ken")
            elif s == 4:
                _agree(raw, "kenlo", ken & 0xF, "ken")
        if "new_sgc" in fields and layout.ea == "11":
            sgc = _int(fields, "new_sgc")
            if not 0 <= sgc <= 999999:
                raise FieldRangeError(f"new_sgc is outside 6 digits ({sgc})")
            _agree(raw, "sgclo" if s == 8 else "sgcho", sgc & 0xFFF if s == 8 else sgc >> 12,
                   "new_sgc")  # fmt: skip
        key_names = [n for n in names if n in _HEX_FIELDS and n not in raw]
        if key_names and ea is not None:
            k = _new_key_bytes(fields, ea)
            sections = (
                {"nkho": k[0:4], "nklo": k[4:8]}
                if ea is EA.STA
                else {"nkho": k[0:4], "nkmo1": k[4:8], "nkmo2": k[8:12], "nklo": k[12:16]}
            )
            for name in key_names:
                raw[name] = int.from_bytes(sections[name], "big")
    return raw


def _error(case_id: Any, exc: Exception) -> dict[str, Any]:
    if isinstance(exc, StsError):
        return {"id": case_id, "error": {"code": exc.code, "message": exc.message}}
    return {"id": case_id, "error": {"code": "input", "message": f"malformed case: {exc!r}"}}


def _case_id(case: Any) -> Any:
    """The id to echo: a string, an integer or null (anything else is not echoed)."""
    value = case.get("id") if isinstance(case, Mapping) else None
    return value if value is None or isinstance(value, str) or type(value) is int else None


def _guard(fn: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def run(case: Any) -> dict[str, Any]:
        case_id = _case_id(case)
        try:
            if not isinstance(case, Mapping):
                raise InputError("each line must be a JSON object")
            if case.get("id") is not case_id:
                raise InputError("id must be a string, an integer or null")
            return fn(case)
        except (StsError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError,
                RecursionError) as exc:  # fmt: skip
            if isinstance(exc, KeyError) and not isinstance(exc, StsError):
                exc = InputError(f"missing {exc.args[0]!r}")
            elif isinstance(exc, RecursionError):
                exc = InputError("the case is nested too deeply")
            return _error(case_id, exc)

    run.__doc__ = fn.__doc__
    run.__name__ = fn.__name__
    return run


def _class_subclass(case: Mapping[str, Any]) -> tuple[int, int]:
    c, s = case["token_class"], case["subclass"]
    if type(c) is not int or type(s) is not int:
        raise InputError("token_class and subclass must be integers")
    return c, s


@_guard
def encode_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """Encode one token case object → ``{"id", "token"}``."""
    token_class, subclass = _class_subclass(case)
    fields = case.get("fields", {})
    if not isinstance(fields, Mapping):
        raise InputError("fields must be an object")
    key = key_from_case(case.get("key"), case.get("ea"))
    ea = key.ea if key is not None else None
    layout = layout_for(token_class, subclass, ea.value if ea else None)
    raw = raw_fields(layout, fields, ea)
    return {"id": case.get("id"), "token": encode_token(token_class, subclass, raw, key)}


def meaningful_fields(token_class: int, subclass: int, fields: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {n: (f"{v:08x}" if n in _HEX_FIELDS else v) for n, v in fields.items()}
    if token_class == 0 and subclass <= 3:
        out["transfer_amount"] = decode_amount(fields["amount_field"])
    elif token_class == 0:
        out["currency_amount"] = decode_currency_amount(fields["amount_field"], fields["se"])
    elif token_class == 2 and subclass in (0, 6):
        out["watts"] = decode_amount(fields["amount_field"])
    return out


@_guard
def decode_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """Decode ``{"id", "token", "ea", "key"}`` → ``{"id", "token_class", "subclass", "fields"}``."""
    key = key_from_case(case.get("key"), case.get("ea"))
    decoded = decode_token(case["token"], key)
    return {
        "id": case.get("id"),
        "token_class": decoded.token_class,
        "subclass": decoded.subclass,
        "fields": meaningful_fields(decoded.token_class, decoded.subclass, decoded.fields),
    }


@_guard
def derive_case(case: Mapping[str, Any]) -> dict[str, Any]:
    """Derive ``{"id", "key", "ea"}`` → ``{"id", "decoder_key": HEX}``."""
    key = key_from_case(case["key"], case.get("ea"))
    if key is None:
        raise InputError("key must name derivation inputs")
    return {"id": case.get("id"), "decoder_key": key.hex()}

