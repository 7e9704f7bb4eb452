"""Fixtures of the keystore tests: the demo keyset, fast KEKs, the published test keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsvend import sts
from stsvend.keystore import KekSource, SoftwareSecurityModule, demo_key_file

#: The published test vending keys (docs/sts.md §11), as hex.
VK_AB = "abababababababab"
VK_94 = "9494949494949494"
VK_160 = "abababababababab949494949494949401234567"
#: A key no public material holds, for PRODUCTION key files (published test keys are refused).
VK_PROD = "1f2e3d4c5b6a7988"
KCV_PROD = "72305B"
#: Every byte string a leak check looks for: the vending keys, in any common spelling.
SECRET_SPELLINGS = tuple(
    spelling
    for hex_key in (VK_AB, VK_94, VK_160)
    for spelling in (
        hex_key,
        hex_key.upper(),
        repr(bytes.fromhex(hex_key)),
        str(list(bytes.fromhex(hex_key))),
    )
)

METER = sts.MeterIdentity.parse("600727", "00000000000")
UNIQUE = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
DEFAULT = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=1)


@pytest.fixture()
def hsm() -> SoftwareSecurityModule:
    return SoftwareSecurityModule.from_key_file(demo_key_file())


@pytest.fixture()
def raw_kek() -> KekSource:
    return KekSource.from_hex("5a" * 32)


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return tmp_path / "data"


def key_file_text(*entries: dict[str, object], test: bool = True, header: str = "") -> str:
    """A key file in the documented TOML form."""
    lines = ['format = "stsvend-keys/1"', f"test = {'true' if test else 'false'}", header]
    for entry in entries:
        lines.append("[[keys]]")
        for name, value in entry.items():
            if isinstance(value, bool):
                lines.append(f"{name} = {'true' if value else 'false'}")
            elif isinstance(value, str):
                lines.append(f'{name} = "{value}"')
            else:
                lines.append(f"{name} = {value}")
    return "\n".join(lines) + "\n"


def prod_entry(**overrides: object) -> dict[str, object]:
    """A PRODUCTION key: SGC 654321 KRN 1, DKGA02."""
    entry: dict[str, object] = {
        "sgc": "654321", "krn": 1, "dkga": "02", "type": "VUDK", "key": VK_PROD, "kcv": KCV_PROD,
    }  # fmt: skip
    entry.update(overrides)
    return entry


def ab_entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "sgc": "123456", "krn": 1, "dkga": "02", "type": "VUDK", "key": VK_AB, "kcv": "C33F45",
    }  # fmt: skip
    entry.update(overrides)
    return entry
