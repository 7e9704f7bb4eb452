"""The TOML key file: vending keys as a utility receives them, checked at load.

The format is written down in ``docs/keyfile-format.md``.  In short::

    format = "stsvend-keys/1"
    test = false                      # TEST (published test keys) or PRODUCTION, for all keys
    issuer = "KMC load 2025-03"       # optional, free text

    [[keys]]
    sgc = "123456"                    # 6 digits (a string keeps leading zeros)
    krn = 1                           # 1-9
    dkga = "02"                       # "02" (64-bit DES key) or "04" (160-bit key)
    type = "VUDK"                     # VUDK, VDDK, VCDK (VITK for factory rigs)
    key = "abababababababab"          # hex: 16 digits for DKGA02, 40 for DKGA04
    kcv = "C33F45"                    # key check value, verified at load
    ken = 255                         # optional
    base_date = 1993                  # optional
    label = "main supply group"       # optional

Every key's check value is recomputed at load; one wrong KCV refuses the whole file and the
error names the key (never its value).  A file is either TEST or PRODUCTION as a whole, and a
PRODUCTION file holding a published test key (:mod:`stsvend.keystore.published`) is refused.

>>> text = '''
... format = "stsvend-keys/1"
... test = true
... [[keys]]
... sgc = "123456"
... krn = 1
... dkga = "02"
... type = "VUDK"
... key = "abababababababab"
... kcv = "C33F45"
... '''
>>> kf = parse_key_file(text)
>>> kf.test, [e.record.key_id for e in kf.entries]
(True, ['123456/1/VUDK'])
>>> kf.entries[0]  # doctest: +ELLIPSIS
KeyFileEntry(record=KeyRecord(...), key=SecretBytes(<8 bytes>))
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from stsvend import sts
from stsvend.errors import StsError
from stsvend.keystore.errors import KcvMismatchError, KeyFileError
from stsvend.keystore.kcv import vending_key_check_value
from stsvend.keystore.published import refuse_published_test_keys
from stsvend.keystore.records import KeyRecord, SecretBytes, VendingKeyType

__all__ = ["KEY_FILE_FORMAT", "KeyFile", "KeyFileEntry", "load_key_file", "parse_key_file"]

#: The value of the ``format`` line this version reads.
KEY_FILE_FORMAT = "stsvend-keys/1"

_TOP_FIELDS = frozenset({"format", "test", "issuer", "keys"})
_KEY_FIELDS = frozenset(
    {"sgc", "krn", "dkga", "type", "key", "kcv", "ken", "base_date", "label", "test"}
)
_REQUIRED = ("sgc", "krn", "dkga", "type", "key", "kcv")


@frozen(repr=False)
class KeyFileEntry:
    """One key of a key file: its record and its value (hidden from ``repr``)."""

    record: KeyRecord
    key: SecretBytes

    def __repr__(self) -> str:
        return f"KeyFileEntry(record=KeyRecord(...), key={self.key!r})"


@frozen
class KeyFile:
    """A parsed, verified key file."""

    test: bool
    entries: tuple[KeyFileEntry, ...]
    issuer: str = ""

    @property
    def records(self) -> tuple[KeyRecord, ...]:
        return tuple(e.record for e in self.entries)


def _where(index: int, raw: Mapping[str, Any]) -> str:
    sgc, krn, kind = raw.get("sgc", "?"), raw.get("krn", "?"), raw.get("type", "?")
    return f"key #{index + 1} (sgc {sgc}, krn {krn}, type {kind})"


def _hex_key(index: int, raw: Mapping[str, Any], dkga: sts.DKGA) -> bytes:
    text = raw["key"]
    if not isinstance(text, str):
        raise KeyFileError(f"{_where(index, raw)}: key must be a hexadecimal string")
    cleaned = text.replace(" ", "").replace(":", "")
    try:
        value = bytes.fromhex(cleaned)
    except ValueError:
        raise KeyFileError(f"{_where(index, raw)}: key is not hexadecimal") from None
    if len(value) != dkga.vending_key_bytes:
        raise KeyFileError(
            f"{_where(index, raw)}: a DKGA{dkga.value} vending key is "
            f"{2 * dkga.vending_key_bytes} hex digits, got {len(cleaned)}"
        )
    return value


def _entry(index: int, raw: Any, test: bool) -> KeyFileEntry:
    if not isinstance(raw, Mapping):
        raise KeyFileError(f"key #{index + 1} is not a table")
    unknown = sorted(set(raw) - _KEY_FIELDS)
    if unknown:
        raise KeyFileError(f"{_where(index, raw)}: unknown field(s) {', '.join(unknown)}")
    missing = [name for name in _REQUIRED if name not in raw]
    if missing:
        raise KeyFileError(f"{_where(index, raw)}: missing field(s) {', '.join(missing)}")
    if "test" in raw and raw["test"] is not test:
        raise KeyFileError(
            f"{_where(index, raw)}: its test flag differs from the file's; "
            "TEST and PRODUCTION keys never share a file"
        )
    if isinstance(raw["sgc"], int) and not isinstance(raw["sgc"], bool):
        sgc: Any = raw["sgc"]
    elif isinstance(raw["sgc"], str):
        sgc = raw["sgc"]
    else:
        raise KeyFileError(f"{_where(index, raw)}: sgc must be 6 digits")
    try:
        dkga = sts.DKGA.parse(raw["dkga"])
        value = _hex_key(index, raw, dkga)
        record = KeyRecord(
            sgc=sgc,
            krn=raw["krn"],
            dkga=dkga,
            vending_key_type=VendingKeyType.parse(raw["type"]),
            kcv=raw["kcv"],
            test=test,
            ken=raw.get("ken"),
            base_date=raw.get("base_date"),
            label=raw.get("label", ""),
        )
    except KeyFileError:
        raise
    except StsError as exc:
        raise KeyFileError(f"{_where(index, raw)}: {exc.message}") from None
    if vending_key_check_value(value, dkga) != record.kcv:
        raise KcvMismatchError(
            f"{_where(index, raw)}: the key check value {record.kcv} does not match the key; "
            "the whole file is refused"
        )
    return KeyFileEntry(record, SecretBytes(value))


def parse_key_file(text: str) -> KeyFile:
    """Parse and verify key file text (TOML).  Raises :class:`KeyFileError` subclasses."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message names a line and column, never the key text itself.
        raise KeyFileError(f"the key file is not valid TOML: {exc}") from None
    except RecursionError:
        raise KeyFileError("the key file is nested too deeply") from None
    unknown = sorted(set(data) - _TOP_FIELDS)
    if unknown:
        raise KeyFileError(f"unknown top-level field(s) {', '.join(unknown)}")
    if data.get("format") != KEY_FILE_FORMAT:
        raise KeyFileError(f'the key file must start with format = "{KEY_FILE_FORMAT}"')
    test = data.get("test")
    if not isinstance(test, bool):
        raise KeyFileError("the key file must say test = true or test = false")
    keys = data.get("keys")
    if not isinstance(keys, list) or not keys:
        raise KeyFileError("the key file holds no [[keys]]")
    entries = tuple(_entry(i, raw, test) for i, raw in enumerate(keys))
    seen: dict[tuple[int, int, VendingKeyType], int] = {}
    for i, entry in enumerate(entries):
        first = seen.setdefault(entry.record.identity, i)
        if first != i:
            raise KeyFileError(
                f"key #{i + 1} ({entry.record.key_id}) repeats key #{first + 1}: "
                "SGC, KRN and type name one key"
            )
    issuer = data.get("issuer", "")
    if not isinstance(issuer, str):
        raise KeyFileError("issuer must be a string")
    if not test:
        refuse_published_test_keys(entry.record for entry in entries)
    return KeyFile(test=test, entries=entries, issuer=issuer)


def load_key_file(path: str | Path) -> KeyFile:
    """Read and verify a key file from disk."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read the key file {path}: {exc.__class__.__name__}") from None
    return parse_key_file(text)
