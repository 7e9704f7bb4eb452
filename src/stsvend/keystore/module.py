"""The security-module interface: tokens in, tokens out; keys never come out.

:class:`SecurityModule` is what the vending services call.  It works at token level: it picks
the vending key for a meter's key data (by SGC, KRN and the vending key type that serves the
meter's key type), derives the meter's decoder key inside, and returns 20-digit tokens, decoded
fields or a key check value.  No method returns a vending key or a decoder key, so a hardware
security module can stand behind the same interface.

:class:`SoftwareSecurityModule` implements it over keys held in memory (opened from a sealed
keystore).  Decoder keys are cached per (meter, key data), so a bulk key change derives each
key once; this cache is the only place a key made from a vending key is kept.  The STA table set
(EA07) travels with the module: the published set unless it is given the one the STS Association
issued.

>>> from stsvend import sts
>>> from stsvend.keystore.demo import demo_key_file
>>> hsm = SoftwareSecurityModule.from_key_file(demo_key_file())
>>> meter = sts.MeterIdentity.parse("600727", "00000000000")
>>> unique = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
>>> hsm.encode_token(meter, unique, 0, 0, {"rnd": 5, "tid": 5871715, "amount_field": 1})
'23716100501183194197'
>>> default = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=1)
>>> len(hsm.key_change_tokens(meter, default, unique, rollover=False))
2
>>> hsm.decoder_key_check_value(meter, unique)
'A2C9BC'
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from stsvend import sts
from stsvend.keystore.errors import KeyNotFoundError, KeystoreModeError, KeyUseError
from stsvend.keystore.kcv import decoder_key_check_value as _dk_kcv
from stsvend.keystore.keyfile import KeyFile
from stsvend.keystore.records import KeyRecord, SecretBytes, VendingKeyType
from stsvend.sts.codec import digits_to_block
from stsvend.sts.keys import vending_key_schedule
from stsvend.sts.layouts import KEY_CHANGE_SUBCLASSES, FieldKind, TokenClass
from stsvend.sts.sta_tables import PRODUCTION, StaTables

__all__ = ["KEY_CHANGE_SUBCLASSES", "SecurityModule", "SoftwareSecurityModule"]

Identity = tuple[int, int, VendingKeyType]


@runtime_checkable
class SecurityModule(Protocol):
    """Token-level access to vending keys (a software keystore or a hardware module)."""

    @property
    def test(self) -> bool:
        """True when the keys are TEST keys: every receipt, log row and listing says TEST."""
        ...

    def key_records(self) -> tuple[KeyRecord, ...]:
        """Every vending key's record: SGC, KRN, DKGA, type, KCV, test flag; no material."""
        ...

    def key_record_for(self, key_data: sts.KeyData) -> KeyRecord:
        """The record of the vending key that serves ``key_data`` (KeyNotFoundError if none)."""
        ...

    def encode_token(
        self,
        meter: sts.MeterIdentity,
        key_data: sts.KeyData,
        token_class: int,
        subclass: int,
        fields: Mapping[str, int],
    ) -> str:
        """A token of any class/subclass except key change sections, from its raw fields."""
        ...

    def key_change_tokens(
        self,
        meter: sts.MeterIdentity,
        current: sts.KeyData,
        new: sts.KeyData,
        *,
        rollover: bool,
        with_sgc: bool = False,
    ) -> tuple[str, ...]:
        """The key change set moving ``meter`` from ``current`` to ``new`` key data."""
        ...

    def decode_token(
        self, meter: sts.MeterIdentity, key_data: sts.KeyData, token: str
    ) -> sts.DecodedToken:
        """Decode a token of this meter; key sections of key change tokens are withheld."""
        ...

    def decoder_key_check_value(self, meter: sts.MeterIdentity, key_data: sts.KeyData) -> str:
        """The KCV of the meter's decoder key (for the token log), never the key."""
        ...


class SoftwareSecurityModule:
    """A :class:`SecurityModule` over vending keys held in this process's memory."""

    def __init__(
        self,
        keys: Iterable[tuple[KeyRecord, SecretBytes]],
        *,
        test: bool,
        cache_size: int = 100_000,
        tables: StaTables = PRODUCTION,
    ) -> None:
        self._test = bool(test)
        self._tables = tables
        self._keys: dict[Identity, tuple[KeyRecord, SecretBytes]] = {}
        for record, value in keys:
            if record.test is not self._test:
                raise KeystoreModeError(
                    f"key {record.key_id} (test={record.test}) cannot join a "
                    f"{'TEST' if self._test else 'PRODUCTION'} security module"
                )
            if not isinstance(value, SecretBytes):
                raise TypeError("key values are passed as SecretBytes")
            self._keys[record.identity] = (record, value)
        self._cache: dict[tuple[sts.MeterIdentity, sts.KeyData], sts.DecoderKey] = {}
        # DES schedules of DKGA02 vending keys: one per vending key, made on first use.
        self._schedules: dict[Identity, Any] = {}
        self._cache_size = max(0, int(cache_size))
        self._lock = threading.Lock()

    @classmethod
    def from_key_file(
        cls, key_file: KeyFile, *, cache_size: int = 100_000, tables: StaTables = PRODUCTION
    ) -> SoftwareSecurityModule:
        """A module straight from a verified key file (tests and throw-away rigs)."""
        return cls(((e.record, e.key) for e in key_file.entries), test=key_file.test,
                   cache_size=cache_size, tables=tables)  # fmt: skip

    def __repr__(self) -> str:
        return f"SoftwareSecurityModule(test={self._test}, keys={len(self._keys)})"

    __str__ = __repr__

    @property
    def test(self) -> bool:
        return self._test

    def key_records(self) -> tuple[KeyRecord, ...]:
        return tuple(sorted((r for r, _ in self._keys.values()), key=lambda r: r.key_id))

    # -- choosing and deriving --------------------------------------------------------------

    def _select(self, key_data: sts.KeyData) -> tuple[KeyRecord, SecretBytes]:
        kind = VendingKeyType.for_key_type(key_data.key_type)
        found = self._keys.get((key_data.sgc, key_data.krn, kind))
        if found is None:
            raise KeyNotFoundError(
                f"no vending key {key_data.sgc:06d}/{key_data.krn}/{kind.value} in the keystore "
                f"(meters of key type {int(key_data.key_type)} need a {kind.value})"
            )
        record = found[0]
        if record.base_date is not None and record.base_date is not key_data.base_date:
            raise KeyUseError(
                f"vending key {record.key_id} serves base date {int(record.base_date)}, "
                f"not {int(key_data.base_date)}"
            )
        if record.dkga is sts.DKGA.DKGA02 and key_data.ea is not sts.EA.STA:
            raise KeyUseError(
                f"vending key {record.key_id} is DKGA02: it derives EA07 keys only, "
                f"not EA{key_data.ea.value}"
            )
        return found

    def key_record_for(self, key_data: sts.KeyData) -> KeyRecord:
        return self._select(key_data)[0]

    def _decoder_key(self, meter: sts.MeterIdentity, key_data: sts.KeyData) -> sts.DecoderKey:
        slot = (meter, key_data)
        with self._lock:
            cached = self._cache.get(slot)
        if cached is not None:
            return cached
        record, value = self._select(key_data)
        schedule = None
        if record.dkga is sts.DKGA.DKGA02:
            schedule = self._schedules.get(record.identity)
            if schedule is None:
                schedule = vending_key_schedule(value.reveal())
                with self._lock:
                    self._schedules[record.identity] = schedule
        key = sts.derive_decoder_key(
            value.reveal(), meter, key_data, record.dkga, tables=self._tables, schedule=schedule
        )
        if self._cache_size:
            with self._lock:
                if len(self._cache) >= self._cache_size:
                    # Oldest first: a bulk run walks meters once, so recency buys nothing.
                    del self._cache[next(iter(self._cache))]
                self._cache[slot] = key
        return key

    # -- token operations -------------------------------------------------------------------

    def encode_token(
        self,
        meter: sts.MeterIdentity,
        key_data: sts.KeyData,
        token_class: int,
        subclass: int,
        fields: Mapping[str, int],
    ) -> str:
        if token_class == TokenClass.INITIATE_METER_TEST:
            return sts.encode_token(token_class, subclass, fields, None)
        if token_class == TokenClass.METER_MANAGEMENT and subclass in KEY_CHANGE_SUBCLASSES:
            raise KeyUseError("key change sections are made only by key_change_tokens")
        if token_class == TokenClass.TRANSFER_CREDIT and key_data.key_type is sts.KeyType.DDTK:
            raise KeyUseError(
                "a meter on its default key (key type 1) takes no credit token: "
                "move it to its unique key first"
            )
        return sts.encode_token(token_class, subclass, fields, self._decoder_key(meter, key_data))

    def key_change_tokens(
        self,
        meter: sts.MeterIdentity,
        current: sts.KeyData,
        new: sts.KeyData,
        *,
        rollover: bool,
        with_sgc: bool = False,
    ) -> tuple[str, ...]:
        moves_base_date = new.base_date is not current.base_date
        if bool(rollover) is not moves_base_date:
            raise KeyUseError(
                "the rollover flag must be set exactly when the base date changes "
                f"({int(current.base_date)} → {int(new.base_date)}, rollover={bool(rollover)})"
            )
        if new.base_date < current.base_date:
            raise KeyUseError("a key change never moves a meter back to an earlier base date")
        if new.ea is not current.ea:
            raise KeyUseError("a key change set cannot change the encryption algorithm")
        current_key = self._decoder_key(meter, current)
        new_key = self._decoder_key(meter, new)
        return sts.key_change_tokens(
            current_key, new_key, new, rollover=bool(rollover), with_sgc=with_sgc
        )

    def decode_token(
        self, meter: sts.MeterIdentity, key_data: sts.KeyData, token: str
    ) -> sts.DecodedToken:
        token_class, _ = digits_to_block(token)
        test = token_class == TokenClass.INITIATE_METER_TEST
        key = None if test else self._decoder_key(meter, key_data)
        decoded = sts.decode_token(token, key)
        hidden = decoded.layout.fields_of(FieldKind.KEY_SECTION)
        if not hidden:
            return decoded
        # A key change section carries part of the new decoder key: withhold those bits.
        block = decoded.block
        for f in hidden:
            block &= ~(f.max << f.lsb)
        names = {f.name for f in hidden}
        fields = {k: v for k, v in decoded.fields.items() if k not in names}
        return sts.DecodedToken(
            decoded.token_class, decoded.subclass, fields, decoded.layout, block
        )

    def decoder_key_check_value(self, meter: sts.MeterIdentity, key_data: sts.KeyData) -> str:
        return _dk_kcv(self._decoder_key(meter, key_data))
