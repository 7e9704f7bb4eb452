"""Meter profiles in TOML, for test keysets.

A profile says which meter is simulated: its number, its key data and either its decoder key or
the inputs to derive it from a test vending key, its registers and starting credit, its limits,
its emergency credit policy and the behaviour settings real meters vary.  Every table but
``[meter]`` and ``[key]`` is optional; unknown keys are refused (they are usually typos).
Amounts are written in display units (kWh, m³, min, currency) as TOML numbers or strings and
converted exactly (no binary floats): ``"12.5"`` kWh is 125 register tenths.

Never put a production vending key in a profile: it is a plain file.  The published test keys
(``abababababababab``, ``9494949494949494``, the 160-bit ``abab…4567``) are what it is for.

>>> loaded = parse_profile(SAMPLE_PROFILE, "sample")
>>> loaded.profile.key_data.sgc, loaded.start_credit
(123456, {<RegisterKind.ELECTRICITY: 0>: 200})
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from attrs import frozen

from stsvend import sts
from stsvend.errors import StsError
from stsvend.meter import LockoutPolicy, MeterConfigError, MeterProfile, RegisterKind
from stsvend.sts import KeyType
from stsvend.sts.layouts import TestSubclass

__all__ = ["SAMPLE_PROFILE", "ProfileFile", "load_profile", "parse_profile", "state_path_for"]

T = TypeVar("T")

SAMPLE_PROFILE = """\
# stsvend-keypad meter profile — for TEST keysets only (this file is not a key store).

[meter]
name = "Test meter 1"
drn = "00000000000"                   # 11 digits (IIN 600727) or 13 digits (IIN 0000)
# iin = "600727"
manufactured = 2024-06-01T08:00:00Z   # seeds the TID memory; default: first start

[key]
sgc = 123456
ti = 1
krn = 1
key_type = 2                          # 1 DDTK (refuses credit), 2 DUTK, 3 DCTK
ea = "07"                             # "07" STA or "11" MISTY1 (needs DKGA04)
base_date = 2014                      # 1993 ran out on 2024-11-24
ken = 255
vending_key = "abababababababab"      # published DKGA02 test key; or decoder_key = "<hex>"
dkga = "02"

[registers]
present = ["electricity"]             # electricity, water, gas, time, *_currency
consumption = "electricity"           # the register the load draws from
# price = "2.50"                      # currency per kWh, for a currency consumption register
start = { electricity = "20.0" }      # starting credit, display units

[limits]
# max_power = 10000                   # watts; none by default

[emergency]
policy = "meter"                      # none | meter (allowance here) | vending (tokens)
allowance = "5.0"                     # display units of the consumption register
threshold = "2.0"                     # may be switched on at or below this credit

[behaviour]
tid_memory_depth = 50
key_change_window = 600               # seconds
lockout_threshold = 3
lockout_first = 10                    # seconds, doubling …
lockout_max = 1280                    # … up to this
refused_key_type_changes = ["*->0", "2->1", "3->1"]
test_token_forms = [0, 1, 2]
tamper_opens_relay = true
"""


@frozen
class ProfileFile:
    """A parsed profile file: the meter profile plus what only a new meter needs."""

    profile: MeterProfile
    name: str
    manufactured: datetime | None
    start_credit: dict[RegisterKind, int]


def state_path_for(profile_path: Path) -> Path:
    """Where the meter's state is kept: ``meter.toml`` → ``meter.state.json``."""
    return profile_path.with_name(profile_path.stem + ".state.json")


class _Table:
    """One TOML table, read key by key; leftovers are reported as unknown."""

    def __init__(self, data: Any, name: str, where: str) -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MeterConfigError(f"{where}: [{name}] must be a table")
        self.data = dict(data)
        self.name = name
        self.where = where

    def fail(self, key: str, message: str) -> MeterConfigError:
        return MeterConfigError(f"{self.where}: [{self.name}] {key}: {message}")

    def take(self, key: str, convert: Callable[[Any], T], default: T) -> T:
        if key not in self.data:
            return default
        value = self.data.pop(key)
        try:
            return convert(value)
        except MeterConfigError as err:
            raise self.fail(key, err.message) from None
        except (StsError, ValueError, TypeError, KeyError) as err:
            raise self.fail(key, str(err)) from None

    def require(self, key: str, convert: Callable[[Any], T]) -> T:
        if key not in self.data:
            raise self.fail(key, "is required")
        value: T | None = self.take(key, convert, None)
        assert value is not None
        return value

    def done(self) -> None:
        if self.data:
            raise MeterConfigError(
                f"{self.where}: [{self.name}] has unknown keys: {', '.join(sorted(self.data))}"
            )


def _int(value: Any) -> int:
    if type(value) is not int:
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected text, got {value!r}")
    return str(value)


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def _units(value: Any, scale: int, unit: str) -> int:
    """Display units → register units, exactly."""
    scaled = _decimal(value) * scale
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} {unit} is finer than the register's resolution (1/{scale})")
    return int(scaled)


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(
            f"expected a date-time with a timezone (e.g. 2024-06-01T08:00:00Z), got {value!r}"
        )
    return value


def _dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError('expected a table, e.g. { electricity = "20.0" }')
    return value


def _kinds(value: Any) -> frozenset[RegisterKind]:
    if not isinstance(value, list):
        raise ValueError("expected a list of register names")
    return frozenset(RegisterKind.parse(v) for v in value)


def _transitions(value: Any) -> frozenset[tuple[KeyType, KeyType]]:
    """Entries "a->b", with "*" for any key type."""
    if not isinstance(value, list):
        raise ValueError('expected a list like ["*->0", "2->1"]')
    out: set[tuple[KeyType, KeyType]] = set()
    for item in value:
        left, sep, right = str(item).replace(" ", "").partition("->")
        if not sep:
            raise ValueError(f"{item!r} is not of the form 'from->to'")
        olds = list(KeyType) if left == "*" else [KeyType(int(left))]
        news = list(KeyType) if right == "*" else [KeyType(int(right))]
        out.update((a, b) for a in olds for b in news)
    return frozenset(out)


def _int_list(value: Any) -> frozenset[int]:
    if not isinstance(value, list):
        raise ValueError("expected a list of whole numbers")
    return frozenset(_int(v) for v in value)


def parse_profile(text: str, where: str) -> ProfileFile:
    """Parse profile TOML; ``where`` names the file in messages."""
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        raise MeterConfigError(f"{where}: not valid TOML: {err}") from None
    except RecursionError:
        raise MeterConfigError(f"{where}: nested too deeply") from None
    known = {"meter", "key", "registers", "limits", "emergency", "behaviour"}
    unknown = set(doc) - known
    if unknown:
        raise MeterConfigError(f"{where}: unknown tables: {', '.join(sorted(unknown))}")

    meter = _Table(doc.get("meter"), "meter", where)
    drn = meter.require("drn", _text)
    iin = meter.take("iin", _text, None)
    name = meter.take("name", _text, drn)
    manufactured = meter.take("manufactured", _when, None)
    mfr_override = meter.take("manufacturer_code", _int, None)
    meter.done()
    try:
        identity = sts.MeterIdentity.parse(iin, drn)
    except StsError as err:
        raise MeterConfigError(f"{where}: [meter] {err}") from None

    key = _Table(doc.get("key"), "key", where)
    try:
        data = sts.KeyData(
            sgc=key.require("sgc", _text),
            ti=key.require("ti", _int),
            krn=key.require("krn", _int),
            key_type=key.require("key_type", _int),
            ea=key.take("ea", _text, "07"),
            base_date=key.take("base_date", _int, 1993),
            ken=key.take("ken", _int, 255),
        )
    except StsError as err:
        raise MeterConfigError(f"{where}: [key] {err}") from None
    decoder_hex = key.take("decoder_key", _text, None)
    vending_hex = key.take("vending_key", _text, None)
    dkga = key.take("dkga", _text, "02")
    key.done()
    try:
        if (decoder_hex is None) == (vending_hex is None):
            raise MeterConfigError("give either decoder_key or vending_key (with dkga)")
        if decoder_hex is not None:
            decoder_key = sts.DecoderKey.from_hex(decoder_hex, data.ea)
        else:
            assert vending_hex is not None
            try:
                vk = bytes.fromhex(vending_hex)
            except ValueError:
                raise MeterConfigError("vending_key must be hexadecimal") from None
            decoder_key = sts.derive_decoder_key(vk, identity, data, dkga)
    except StsError as err:
        raise MeterConfigError(f"{where}: [key] {err.message}") from None

    regs = _Table(doc.get("registers"), "registers", where)
    present = regs.take("present", _kinds, frozenset({RegisterKind.ELECTRICITY}))
    consumption = regs.take("consumption", RegisterKind.parse, RegisterKind.ELECTRICITY)
    price = regs.take("price", lambda v: _units(v, 100_000, "per kWh"), None)
    start_table: dict[str, Any] = regs.take("start", _dict, {})
    unit_limit = regs.take("unit_limit", lambda v: _units(v, 10, "units"), 99_999_999)
    currency_limit = regs.take(
        "currency_limit", lambda v: _units(v, 100_000, "currency"), 10**13 - 1
    )
    regs.done()
    start: dict[RegisterKind, int] = {}
    for label, value in start_table.items():
        try:
            kind = RegisterKind.parse(label)
            start[kind] = _units(value, kind.scale, kind.unit)
        except ValueError as err:
            raise MeterConfigError(f"{where}: [registers] start.{label}: {err}") from None

    limits = _Table(doc.get("limits"), "limits", where)
    max_power = limits.take("max_power", _int, None)
    limits.done()

    scale = consumption.scale
    emergency = _Table(doc.get("emergency"), "emergency", where)
    policy = emergency.take("policy", _text, "none")
    allowance = emergency.take("allowance", lambda v: _units(v, scale, "units"), 0)
    threshold = emergency.take("threshold", lambda v: _units(v, scale, "units"), None)
    emergency.done()

    behaviour = _Table(doc.get("behaviour"), "behaviour", where)
    depth = behaviour.take("tid_memory_depth", _int, 50)
    window = behaviour.take("key_change_window", _int, 600)
    lockout_numbers = (
        behaviour.take("lockout_threshold", _int, 3),
        behaviour.take("lockout_first", _int, 10),
        behaviour.take("lockout_max", _int, 1280),
    )
    refused = behaviour.take("refused_key_type_changes", _transitions, None)
    credit_refused = behaviour.take("credit_refused_key_types", _int_list, None)
    forms = behaviour.take("test_token_forms", _int_list, frozenset(map(int, TestSubclass)))
    tamper_opens = behaviour.take("tamper_opens_relay", _bool, True)
    behaviour.done()

    settings: dict[str, Any] = {}
    if refused is not None:
        settings["refused_key_type_changes"] = refused
    if credit_refused is not None:
        settings["credit_refused_key_types"] = credit_refused
    try:
        lockout = LockoutPolicy(*lockout_numbers)
        profile = MeterProfile(
            identity,
            data,
            decoder_key,
            registers=present,
            consumption_register=consumption,
            price=price,
            tid_memory_depth=depth,
            key_change_window_seconds=window,
            lockout=lockout,
            manufacturer_code_override=mfr_override,
            test_token_subclasses=forms,
            unit_register_limit=unit_limit,
            currency_register_limit=currency_limit,
            max_power_limit=max_power,
            emergency_policy=policy,
            emergency_allowance=allowance,
            emergency_threshold=threshold,
            tamper_opens_relay=tamper_opens,
            **settings,
        )
    except MeterConfigError as err:
        raise MeterConfigError(f"{where}: {err.message}") from None
    except ValueError as err:  # an enum value the converters refuse (policy, key type)
        raise MeterConfigError(f"{where}: {err}") from None
    return ProfileFile(profile, name, manufactured, start)


def load_profile(path: Path) -> ProfileFile:
    """Read and parse a profile file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise MeterConfigError(f"cannot read the profile {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise MeterConfigError(f"the profile {path} is not UTF-8 text") from None
    return parse_profile(text, str(path))
