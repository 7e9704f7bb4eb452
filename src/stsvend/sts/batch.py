"""The JSON case objects of the batch contract (``vectors/README.md``), as pure functions.

``stsvend token encode|decode --jsonl`` and ``stsvend key derive --jsonl`` are thin I/O loops
over :func:`encode_case`, :func:`decode_case` and :func:`derive_case`; the tests run the
published vectors through the same functions.  Each takes one parsed JSON object and returns
the output object (``{"id", "token"}``, ``{"id", "token_class", "subclass", "fields"}`` or
``{"id", "decoder_key"}``), or ``{"id", "error": {"code", "message"}}`` — never raises for bad
input.

A run passes one :class:`KeyCache` to every call, so a batch that names the same meter many
times derives its key once; without one, every case derives its own key.  Each line is judged
alone: every key field is checked for its exact JSON type before the cache is asked (1, 1.0 and
true are equal Python keys, so a lax cache would let an earlier line decide a later one).

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
from stsvend.sts.keys import EA, DecoderKey, KeyData, derive_decoder_key, vending_key_schedule
from stsvend.sts.layouts import FieldKind, KeySource, Layout, key_sections, layout_for

__all__ = [
    "KeyCache",
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


class KeyCache:
    """Decoder keys made during one run of cases, owned by the caller (one per batch).

    Batches name few supply groups and many meters: the key data and vending key are shared,
    the meter is parsed for each new line.  Nothing outlives the run.
    """

    __slots__ = ("_data", "_decoder", "_derived", "_maxsize", "_vending")

    def __init__(self, maxsize: int = 65536) -> None:
        self._maxsize = maxsize
        self._data: dict[tuple[Any, ...], KeyData] = {}
        self._vending: dict[Any, tuple[bytes, Any]] = {}
        self._derived: dict[tuple[Any, ...], DecoderKey] = {}
        self._decoder: dict[tuple[Any, EA], DecoderKey] = {}

    def _keep(self, cache: dict[Any, Any], slot: Any, value: Any) -> None:
        if len(cache) >= self._maxsize:
            del cache[next(iter(cache))]
        cache[slot] = value

    def _key_data(self, kt: Any, sgc: Any, ti: Any, krn: Any, bd: Any, ea: EA) -> KeyData:
        slot = (kt, sgc, ti, krn, bd, ea)
        data = self._data.get(slot)
        if data is None:
            data = KeyData(sgc=sgc, ti=ti, krn=krn, key_type=kt, ea=ea,
                           base_date=1993 if bd is None else bd)  # fmt: skip
            self._keep(self._data, slot, data)
        return data

    def _vending_key(self, vk: Any) -> tuple[bytes, Any]:
        """The vending key's bytes and, for a DKGA02-sized key, its DES schedule."""
        found = self._vending.get(vk)
        if found is None:
            if not isinstance(vk, str) or not _HEX.fullmatch(vk):
                raise InputError("vending_key must be a hexadecimal string")
            raw = bytes.fromhex(vk)
            schedule = vending_key_schedule(raw) if len(raw) == 8 else None
            found = (raw, schedule)
            self._keep(self._vending, vk, found)
        return found

    def derive(self, values: tuple[Any, ...], ea: EA) -> DecoderKey:
        """The decoder key of derivation inputs in :data:`_DERIVATION_FIELDS` order."""
        slot = (*values, ea)
        key = self._derived.get(slot)
        if key is None:
            dkga, vk, iin, drn, kt, sgc, ti, krn, bd = values
            data = self._key_data(kt, sgc, ti, krn, bd, ea)
            meter = MeterIdentity.parse(iin, drn)
            raw, schedule = self._vending_key(vk)
            key = derive_decoder_key(raw, meter, data, dkga, schedule=schedule)
            self._keep(self._derived, slot, key)
        return key

    def decoder_key(self, hex_key: Any, ea: EA) -> DecoderKey:
        slot = (hex_key, ea)
        key = self._decoder.get(slot)
        if key is None:
            key = DecoderKey.from_hex(hex_key, ea)
            self._keep(self._decoder, slot, key)
        return key


def key_from_case(key: Any, ea: Any, cache: KeyCache | None = None) -> DecoderKey | None:
    """The decoder key a case names: ``{"decoder_key": HEX}`` or derivation inputs."""
    if key is None:
        return None
    if not isinstance(key, Mapping):
        raise InputError("key must be an object or null")
    ea_parsed = EA.parse("07" if ea is None else _scalar("ea", ea))
    keys = KeyCache(1) if cache is None else cache
    if "decoder_key" in key:
        return keys.decoder_key(_text("decoder_key", key["decoder_key"]), ea_parsed)
    values = tuple(_scalar(name, key.get(name)) for name in _DERIVATION_FIELDS)
    return keys.derive(values, ea_parsed)


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


def _new_key_bytes(fields: Mapping[str, Any], ea: EA, cache: KeyCache | None) -> bytes:
    if "new_decoder_key" in fields:
        return (
            (KeyCache(1) if cache is None else cache)
            .decoder_key(_text("new_decoder_key", fields["new_decoder_key"]), ea)
            .value
        )
    if "new_key" in fields:
        key = key_from_case(fields["new_key"], ea.value, cache)
        assert key is not None
        return key.value
    raise FieldRangeError("a key change token needs new_decoder_key or new_key")


def raw_fields(
    layout: Layout, fields: Mapping[str, Any], ea: EA | None, cache: KeyCache | None = None
) -> dict[str, int]:
    """The layout's raw fields, computing any that are given in their meaningful form."""
    names = layout.field_names
    raw = {name: _int(fields, name) for name in names if name in fields}
    kind = layout.value_kind
    if kind is FieldKind.AMOUNT and kind.value in fields:
        _agree(raw, "amount_field", encode_amount(_int(fields, kind.value)), kind.value)
    elif kind is FieldKind.CURRENCY_AMOUNT and kind.value in fields:
        field, se = encode_currency_amount(_int(fields, kind.value))
        _agree(raw, "amount_field", field, kind.value)
        _agree(raw, "se", se, kind.value)
    elif kind is FieldKind.WATTS and kind.value in fields:
        _agree(raw, "amount_field", encode_amount(_int(fields, kind.value)), kind.value)
    elif layout.key_change:
        _key_change_fields(layout, fields, ea, raw, cache)
    return raw


def _key_change_fields(
    layout: Layout,
    fields: Mapping[str, Any],
    ea: EA | None,
    raw: dict[str, int],
    cache: KeyCache | None,
) -> None:
    section = next(
        s for s in key_sections(layout.ea or (ea or EA.STA).value) if s.subclass == layout.subclass
    )
    if "ken" in fields:
        ken = _int(fields, "ken")
        if not 0 <= ken <= 255:
            raise FieldRangeError(f"ken is outside 0-255 ({ken})")
        for part in section.parts:
            if part.source is KeySource.KEN:
                _agree(raw, part.field, part.take(ken), "ken")
    # The EA07 third token carries new_sgc whole, as its own raw field.
    sgc_parts = [p for p in section.parts if p.source is KeySource.SGC and p.field != "new_sgc"]
    if "new_sgc" in fields and sgc_parts:
        sgc = _int(fields, "new_sgc")
        if not 0 <= sgc <= 999999:
            raise FieldRangeError(f"new_sgc is outside 6 digits ({sgc})")
        for part in sgc_parts:
            _agree(raw, part.field, part.take(sgc), "new_sgc")
    key_parts = [p for p in section.parts if p.source is KeySource.KEY and p.field not in raw]
    if key_parts and ea is not None:
        k = int.from_bytes(_new_key_bytes(fields, ea, cache), "big")
        for part in key_parts:
            raw[part.field] = part.take(k)


def _error(case_id: Any, exc: Exception) -> dict[str, Any]:
    if isinstance(exc, StsError):
        return {"id": case_id, "error": {"code": exc.code, "message": exc.message}}
    return {"id": case_id, "error": {"code": "input", "message": f"malformed case: {exc!r}"}}


def _case_id(case: Any) -> Any:
    """The id to echo: a string, an integer or null (anything else is not echoed)."""
    value = case.get("id") if isinstance(case, Mapping) else None
    return value if value is None or isinstance(value, str) or type(value) is int else None


def _guard(
    fn: Callable[[Mapping[str, Any], KeyCache | None], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    def run(case: Any, cache: KeyCache | None = None) -> dict[str, Any]:
        case_id = _case_id(case)
        try:
            if not isinstance(case, Mapping):
                raise InputError("each line must be a JSON object")
            if case.get("id") is not case_id:
                raise InputError("id must be a string, an integer or null")
            return fn(case, cache)
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
def encode_case(case: Mapping[str, Any], cache: KeyCache | None) -> dict[str, Any]:
    """Encode one token case object → ``{"id", "token"}``."""
    token_class, subclass = _class_subclass(case)
    fields = case.get("fields", {})
    if not isinstance(fields, Mapping):
        raise InputError("fields must be an object")
    key = key_from_case(case.get("key"), case.get("ea"), cache)
    ea = key.ea if key is not None else None
    layout = layout_for(token_class, subclass, ea.value if ea else None)
    raw = raw_fields(layout, fields, ea, cache)
    return {"id": case.get("id"), "token": encode_token(token_class, subclass, raw, key)}


def meaningful_fields(layout: Layout, fields: dict[str, int]) -> dict[str, Any]:
    """The raw fields, key sections as hex, plus the value in its meaningful form."""
    hex_names = {f.name for f in layout.fields_of(FieldKind.KEY_SECTION)}
    out: dict[str, Any] = {n: (f"{v:08x}" if n in hex_names else v) for n, v in fields.items()}
    kind = layout.value_kind
    if kind is FieldKind.AMOUNT or kind is FieldKind.WATTS:
        out[kind.value] = decode_amount(fields["amount_field"])
    elif kind is FieldKind.CURRENCY_AMOUNT:
        out[kind.value] = decode_currency_amount(fields["amount_field"], fields["se"])
    return out


@_guard
def decode_case(case: Mapping[str, Any], cache: KeyCache | None) -> dict[str, Any]:
    """Decode ``{"id", "token", "ea", "key"}`` → ``{"id", "token_class", "subclass", "fields"}``."""
    key = key_from_case(case.get("key"), case.get("ea"), cache)
    decoded = decode_token(case["token"], key)
    return {
        "id": case.get("id"),
        "token_class": decoded.token_class,
        "subclass": decoded.subclass,
        "fields": meaningful_fields(decoded.layout, decoded.fields),
    }


@_guard
def derive_case(case: Mapping[str, Any], cache: KeyCache | None) -> dict[str, Any]:
    """Derive ``{"id", "key", "ea"}`` → ``{"id", "decoder_key": HEX}``."""
    key = key_from_case(case["key"], case.get("ea"), cache)
    if key is None:
        raise InputError("key must name derivation inputs")
    return {"id": case.get("id"), "decoder_key": key.hex()}
