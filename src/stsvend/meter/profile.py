"""A meter profile: everything fixed at manufacture or commissioning.

The profile holds the meter's identity, its key data and decoder key as delivered, and every
behaviour that real meters vary and the public standard text does not fix.  Defaults, and why
(§ numbers are sections of ``docs/sts.md``):

==========================  =================  ==================================================
setting                     default            why
==========================  =================  ==================================================
``tid_memory_depth``        50                 depth not public; 50 matches the TID list kept per
                                               meter by a published vending implementation
``key_change_window``       600 s              "10 minutes in one product" (§9)
``lockout``                 3 → 10 s … 1 280 s  the publicly described behaviour (§10 step 10)
``refused_key_type_changes``  to DITK from any;  the rules are not public (§12): a meter in
                            DUTK/DCTK → DDTK   the field never takes a factory key, and once on a
                                               unique or common key never falls back to default
``credit_refused_key_types``  DITK, DDTK       a default-keyed meter refuses credit (§7.7); the
                                               factory key is treated the same way
``test_token_subclasses``   0, 1, 2            both manufacturer-code forms and extended read
``registers``               electricity        an electricity meter
``unit_register_limit``     99 999 999         an 8-digit display with one decimal (9 999 999.9)
``currency_register_limit`` 10**13 − 1         99 999 999.99999 of the currency
``emergency_policy``        none               no emergency credit unless the utility says so
``tamper_opens_relay``      true               a tamper latch disconnects the supply
==========================  =================  ==================================================

>>> from stsvend import sts
>>> profile = MeterProfile.derive(
...     sts.MeterIdentity.parse("600727", "00000000000"),
...     sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2),
...     bytes.fromhex("abababababababab"),
... )
>>> profile.decoder_key.hex(), profile.manufacturer_code, profile.tid_memory_depth
('e653341f9d5bf36f', 0, 50)
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from stsvend.meter.emergency import EmergencyPolicy
from stsvend.meter.errors import MeterConfigError
from stsvend.meter.lockout import LockoutPolicy
from stsvend.meter.registers import RegisterKind
from stsvend.sts import DKGA, DecoderKey, KeyData, KeyType, MeterIdentity, derive_decoder_key
from stsvend.sts.layouts import TestSubclass

__all__ = [
    "DEFAULT_CREDIT_REFUSED_KEY_TYPES",
    "DEFAULT_REFUSED_KEY_TYPE_CHANGES",
    "MeterProfile",
]

#: Key-type transitions (current KT, new KT) a key change may not make, by default.
DEFAULT_REFUSED_KEY_TYPE_CHANGES: frozenset[tuple[KeyType, KeyType]] = frozenset(
    {(kt, KeyType.DITK) for kt in KeyType}
    | {(KeyType.DUTK, KeyType.DDTK), (KeyType.DCTK, KeyType.DDTK)}
)
#: Key types under which a meter refuses class 0 credit ("DDTK error").
DEFAULT_CREDIT_REFUSED_KEY_TYPES: frozenset[KeyType] = frozenset({KeyType.DITK, KeyType.DDTK})


def _invalid(err: Exception) -> MeterConfigError:
    return MeterConfigError(f"the meter profile is not valid: {err}")


# Named converters (attrs' mypy plugin needs them): failures are MeterConfigError, not a bare
# ValueError, so that a caller catches every profile problem as an StsError.
def _transitions(value: Any) -> frozenset[tuple[KeyType, KeyType]]:
    try:
        return frozenset((KeyType(int(a)), KeyType(int(b))) for a, b in value)
    except (TypeError, ValueError) as err:
        raise _invalid(err) from None


def _key_types(value: Any) -> frozenset[KeyType]:
    try:
        return frozenset(KeyType(int(v)) for v in value)
    except (TypeError, ValueError) as err:
        raise _invalid(err) from None


def _kinds(value: Any) -> frozenset[RegisterKind]:
    try:
        return frozenset(RegisterKind(int(v)) for v in value)
    except (TypeError, ValueError) as err:
        raise _invalid(err) from None


def _ints(value: Any) -> frozenset[int]:
    try:
        return frozenset(int(v) for v in value)
    except (TypeError, ValueError) as err:
        raise _invalid(err) from None


def _register(value: Any) -> RegisterKind:
    try:
        return RegisterKind(value)
    except ValueError as err:
        raise _invalid(err) from None


def _policy(value: Any) -> EmergencyPolicy:
    try:
        return EmergencyPolicy(value)
    except ValueError as err:
        raise _invalid(err) from None


@frozen
class MeterProfile:
    """A meter as built and commissioned.  Validated on construction (:class:`MeterConfigError`).

    Amounts are in register units: tenths of the unit, or 0.00001 of the currency.  ``price`` is
    0.00001 of the currency per kWh and is needed when the consumption register is a currency
    register.  ``emergency_threshold`` (None: the allowance) is the credit at or below which the
    customer may switch emergency credit on.
    """

    identity: MeterIdentity
    key_data: KeyData
    decoder_key: DecoderKey
    registers: frozenset[RegisterKind] = field(
        default=frozenset({RegisterKind.ELECTRICITY}), converter=_kinds
    )
    consumption_register: RegisterKind = field(
        default=RegisterKind.ELECTRICITY, converter=_register
    )
    price: int | None = None
    tid_memory_depth: int = 50
    key_change_window_seconds: int = 600
    lockout: LockoutPolicy = field(factory=LockoutPolicy)
    refused_key_type_changes: frozenset[tuple[KeyType, KeyType]] = field(
        default=DEFAULT_REFUSED_KEY_TYPE_CHANGES, converter=_transitions
    )
    credit_refused_key_types: frozenset[KeyType] = field(
        default=DEFAULT_CREDIT_REFUSED_KEY_TYPES, converter=_key_types
    )
    #: None: the manufacturer code in the DRN.
    manufacturer_code_override: int | None = None
    test_token_subclasses: frozenset[int] = field(
        default=frozenset(TestSubclass), converter=_ints
    )
    unit_register_limit: int = 99_999_999
    currency_register_limit: int = 10**13 - 1
    max_power_limit: int | None = None
    emergency_policy: EmergencyPolicy = field(default=EmergencyPolicy.NONE, converter=_policy)
    emergency_allowance: int = 0
    emergency_threshold: int | None = None
    tamper_opens_relay: bool = True

    def __attrs_post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise MeterConfigError("the meter profile is not valid: " + "; ".join(problems))

    def _problems(self) -> Any:
        if self.decoder_key.ea is not self.key_data.ea:
            yield (
                f"the decoder key is for EA{self.decoder_key.ea.value} but the key data "
                f"says EA{self.key_data.ea.value}"
            )
        if not self.registers:
            yield "a meter has at least one register"
        if self.consumption_register not in self.registers:
            yield f"the consumption register {self.consumption_register.key} is not present"
        if self.consumption_register not in (
            RegisterKind.ELECTRICITY,
            RegisterKind.ELECTRICITY_CURRENCY,
        ):
            yield "the load is in watts: the consumption register is electricity or its currency"
        if self.consumption_register.is_currency and (self.price is None or self.price <= 0):
            yield "a currency consumption register needs a price above zero"
        if self.price is not None and self.price < 0:
            yield "the price may not be negative"
        if self.tid_memory_depth < 1:
            yield "the TID memory holds at least one TID"
        if self.key_change_window_seconds < 0:
            yield "the key change window may not be negative"
        if self.unit_register_limit < 1 or self.currency_register_limit < 1:
            yield "register limits are positive"
        if self.max_power_limit is not None and self.max_power_limit < 0:
            yield "the maximum power limit may not be negative"
        if self.emergency_allowance < 0:
            yield "the emergency allowance may not be negative"
        if self.emergency_policy is EmergencyPolicy.METER and self.emergency_allowance <= 0:
            yield "meter-side emergency credit needs an allowance above zero"
        if self.emergency_policy is not EmergencyPolicy.METER and self.emergency_allowance:
            yield "an emergency allowance needs emergency_policy 'meter'"
        if self.emergency_threshold is not None and self.emergency_threshold < 0:
            yield "the emergency threshold may not be negative"
        if not self.test_token_subclasses <= set(TestSubclass):
            yield "class 1 test token forms are subclasses 0, 1 and 2"
        mandatory = (
            TestSubclass.TEST_4_DIGIT
            if self.four_digit_manufacturer_code
            else TestSubclass.TEST_2_DIGIT
        )
        if mandatory not in self.test_token_subclasses:
            yield (
                f"a meter with a {4 if mandatory else 2}-digit manufacturer code must take "
                f"class 1 subclass {int(mandatory)} test tokens"
            )

    @classmethod
    def derive(
        cls,
        identity: MeterIdentity,
        key_data: KeyData,
        vending_key: bytes,
        dkga: DKGA | str = DKGA.DKGA02,
        **settings: Any,
    ) -> MeterProfile:
        """A profile whose decoder key is derived from a (test) vending key."""
        key = derive_decoder_key(vending_key, identity, key_data, dkga)
        return cls(identity, key_data, key, **settings)

    @property
    def four_digit_manufacturer_code(self) -> bool:
        return len(self.identity.drn) == 13

    @property
    def manufacturer_code(self) -> int:
        if self.manufacturer_code_override is not None:
            return self.manufacturer_code_override
        return self.identity.manufacturer_code

    @property
    def emergency_activation_threshold(self) -> int:
        if self.emergency_threshold is not None:
            return self.emergency_threshold
        return self.emergency_allowance

    def register_limit(self, kind: RegisterKind) -> int:
        return self.currency_register_limit if kind.is_currency else self.unit_register_limit
