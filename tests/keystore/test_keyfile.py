"""The TOML key file: what loads, and every way a file is refused (naming the key, never it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsvend import sts
from stsvend.keystore import (
    KcvMismatchError,
    KeyFileError,
    VendingKeyType,
    demo_key_file,
    load_key_file,
    parse_key_file,
)
from stsvend.keystore.demo import DEMO_KEY_FILE_TEXT
from tests.keystore.conftest import (
    SECRET_SPELLINGS,
    VK_94,
    VK_160,
    ab_entry,
    key_file_text,
    prod_entry,
)


def test_a_full_entry_loads_with_every_optional_field() -> None:
    text = key_file_text(
        ab_entry(ken=200, base_date=2014, label="main group"),
        {"sgc": 123457, "krn": 4, "dkga": "04", "type": "vudk", "key": VK_160, "kcv": "0f353d"},
        header='issuer = "KMC load 7"',
    )
    kf = parse_key_file(text)
    first, second = kf.records
    assert kf.test and kf.issuer == "KMC load 7"
    assert (first.sgc, first.krn, first.dkga, first.vending_key_type) == (
        123456, 1, sts.DKGA.DKGA02, VendingKeyType.VUDK,
    )  # fmt: skip
    assert (first.ken, first.base_date, first.label, first.kcv) == (
        200, sts.BaseDate.Y2014, "main group", "C33F45",
    )  # fmt: skip
    assert (second.key_id, second.dkga, second.kcv, second.ken) == (
        "123457/4/VUDK", sts.DKGA.DKGA04, "0F353D", None,
    )  # fmt: skip
    assert kf.entries[1].key.reveal() == bytes.fromhex(VK_160)


def test_key_hex_may_be_grouped_with_spaces_or_colons() -> None:
    kf = parse_key_file(key_file_text(ab_entry(key="abab abab:abab abab")))
    assert kf.entries[0].key.reveal() == bytes.fromhex("ab" * 8)


def test_ditk_is_accepted_as_the_factory_rig_type() -> None:
    entry = ab_entry(type="DITK", sgc="000046", key="0abc12def3456789", kcv="000000")
    with pytest.raises(KcvMismatchError):
        parse_key_file(key_file_text(entry))
    from stsvend.keystore.kcv import vending_key_check_value

    entry["kcv"] = vending_key_check_value(bytes.fromhex("0abc12def3456789"), "02")
    record = parse_key_file(key_file_text(entry)).records[0]
    assert record.vending_key_type is VendingKeyType.VITK
    assert record.vending_key_type.key_type is sts.KeyType.DITK


def test_the_demo_key_file_is_test_and_verifies() -> None:
    kf = demo_key_file()
    assert kf.test and all(r.test for r in kf.records)
    assert parse_key_file(DEMO_KEY_FILE_TEXT) == kf


def test_a_wrong_kcv_refuses_the_whole_file_and_names_the_key() -> None:
    good = ab_entry()
    bad = ab_entry(krn=2, key=VK_94, kcv="31CE7B")
    with pytest.raises(KcvMismatchError) as info:
        parse_key_file(key_file_text(good, bad))
    message = str(info.value)
    assert "key #2" in message and "krn 2" in message and "31CE7B" in message
    assert "whole file" in message
    assert not any(secret in message for secret in SECRET_SPELLINGS)
    assert info.value.code == "kcv"


def test_load_key_file_reads_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text(key_file_text(ab_entry()), encoding="utf-8")
    assert load_key_file(path).records[0].key_id == "123456/1/VUDK"


def test_missing_and_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="no key file"):
        load_key_file(tmp_path / "absent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(KeyFileError, match="cannot read"):
        load_key_file(binary)


# fmt: off
REFUSALS = [
    ("not toml", 'format = "stsvend-keys/1"\ntest = true\n[[keys]\n', "not valid TOML"),
    ("no format", "test = true\n", "must start with format"),
    ("old format", 'format = "stsvend-keys/0"\ntest = true\n', "must start with format"),
    ("no test flag", 'format = "stsvend-keys/1"\n', "test = true or test = false"),
    ("test not bool", 'format = "stsvend-keys/1"\ntest = "yes"\n', "test = true or test = false"),
    ("no keys", 'format = "stsvend-keys/1"\ntest = true\n', "holds no"),
    ("unknown top", 'format = "stsvend-keys/1"\ntest = true\nextra = 1\n', "unknown top-level"),
    ("issuer not text", key_file_text(ab_entry(), header="issuer = 3"), "issuer must be"),
    ("unknown field", key_file_text(ab_entry(colour="red")), "unknown field"),
    ("missing kcv", key_file_text({k: v for k, v in ab_entry().items() if k != "kcv"}),
     "missing field"),
    ("key not hex", key_file_text(ab_entry(key="zzzzzzzzzzzzzzzz")), "not hexadecimal"),
    ("key not text", key_file_text(ab_entry(key=12345)), "hexadecimal string"),
    ("short key", key_file_text(ab_entry(key="abababababab")), "16 hex digits"),
    ("160 for 02", key_file_text(ab_entry(key=VK_160)), "16 hex digits"),
    ("64 for 04", key_file_text(ab_entry(dkga="04")), "40 hex digits"),
    ("dkga 03", key_file_text(ab_entry(dkga="03")), "dkga must be 02 or 04"),
    ("bad type", key_file_text(ab_entry(type="VXYZ")), "vending key type must be"),
    ("bad sgc", key_file_text(ab_entry(sgc="1234567")), "sgc must be up to 6 digits"),
    ("sgc float", key_file_text(ab_entry(sgc=1.5)), "sgc must be 6 digits"),
    ("krn 0", key_file_text(ab_entry(krn=0)), "krn is outside 1-9"),
    ("ken 256", key_file_text(ab_entry(ken=256)), "ken is outside 0-255"),
    ("base 2000", key_file_text(ab_entry(base_date=2000)), "base date must be"),
    ("bad kcv", key_file_text(ab_entry(kcv="C33F4")), "6 hexadecimal digits"),
    ("mixed test flag", key_file_text(ab_entry(test=False)), "never share a file"),
    ("repeat", key_file_text(ab_entry(), ab_entry(label="again")), "repeats key #1"),
    ("not a table", 'format = "stsvend-keys/1"\ntest = true\nkeys = [1]\n', "is not a table"),
]
# fmt: on


@pytest.mark.parametrize(("text", "message"), [(t, m) for _, t, m in REFUSALS],
                         ids=[name for name, _, _ in REFUSALS])  # fmt: skip
def test_malformed_key_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(KeyFileError, match=message) as info:
        parse_key_file(text)
    assert not any(secret in str(info.value) for secret in SECRET_SPELLINGS)


def test_production_files_carry_production_records() -> None:
    kf = parse_key_file(key_file_text(prod_entry(), test=False))
    assert not kf.test and not kf.records[0].test
