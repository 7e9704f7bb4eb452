"""The published test vending keys: the KCV table is what the repository's test keys give, and
a PRODUCTION key file or keystore refuses every one of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend import sts
from stsvend.errors import StsError
from stsvend.keystore import (
    PUBLISHED_TEST_KEYS,
    KekSource,
    KeyFile,
    KeyFileError,
    PublishedTestKeyError,
    SealedKeystore,
    demo_key_file,
    parse_key_file,
    published_test_key,
    vending_key_check_value,
)
from stsvend.keystore.keyfile import KeyFileEntry
from stsvend.keystore.records import KeyRecord
from stsvend_cli.exit_codes import exit_code_for
from tests.keystore.conftest import SECRET_SPELLINGS, VK_PROD, key_file_text, prod_entry

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


def _vector_vending_keys() -> dict[tuple[sts.DKGA, str], set[str]]:
    """Every vending key of the test vectors, by (DKGA, KCV), with the ids of its cases."""
    found: dict[tuple[sts.DKGA, str], set[str]] = {}

    def walk(value: Any, case_id: str) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("vending_key"), str):
                dkga = sts.DKGA.parse(value["dkga"])
                kcv = vending_key_check_value(bytes.fromhex(value["vending_key"]), dkga)
                found.setdefault((dkga, kcv), set()).add(case_id)
            for item in value.values():
                walk(item, case_id)
        elif isinstance(value, list):
            for item in value:
                walk(item, case_id)

    for name in ("tokens.json", "components.json"):
        for case in json.loads((VECTORS / name).read_text()):
            walk(case, case["id"])
    return found


def _demo_vending_keys() -> dict[tuple[sts.DKGA, str], set[str]]:
    found: dict[tuple[sts.DKGA, str], set[str]] = {}
    for entry in demo_key_file().entries:
        kcv = vending_key_check_value(entry.key.reveal(), entry.record.dkga)
        found.setdefault((entry.record.dkga, kcv), set()).add(entry.record.key_id)
    return found


def test_the_table_is_every_test_key_the_repository_holds() -> None:
    vectors, demo = _vector_vending_keys(), _demo_vending_keys()
    table = {(entry.dkga, entry.kcv) for entry in PUBLISHED_TEST_KEYS}
    assert table == set(vectors) | set(demo)
    assert len(table) == len(PUBLISHED_TEST_KEYS) == 4
    for entry in PUBLISHED_TEST_KEYS:
        fingerprint = (entry.dkga, entry.kcv)
        cited = " ".join(entry.held_in)
        # Each entry names a place that really holds the key.
        named = [i for i in vectors.get(fingerprint, set()) if i in cited]
        named += [k for k in demo.get(fingerprint, set()) if k in cited]
        assert named, entry
        for key in SECRET_SPELLINGS:
            assert key not in entry.label + cited


def test_lookup_by_dkga_and_kcv() -> None:
    assert published_test_key("02", "c33f45") is PUBLISHED_TEST_KEYS[0]
    assert published_test_key(sts.DKGA.DKGA04, "0F353D") is PUBLISHED_TEST_KEYS[3]
    assert published_test_key("04", "C33F45") is None  # the KCV of another DKGA's key
    assert published_test_key("02", "72305B") is None


def test_the_error_sits_in_the_tree_with_a_stable_code() -> None:
    error = PublishedTestKeyError()
    assert isinstance(error, KeyFileError) and isinstance(error, StsError)
    assert error.code == "published_test_key" and exit_code_for(error.code) == 4
    assert "published STS test key" in error.message


@pytest.mark.parametrize("demo_key", range(5))
def test_a_production_key_file_refuses_each_demo_key(demo_key: int) -> None:
    record = demo_key_file().entries[demo_key].record
    raw = demo_key_file().entries[demo_key].key.reveal().hex()
    entry = {"sgc": "654321", "krn": 3, "dkga": record.dkga.value, "type": "VUDK", "key": raw,
             "kcv": record.kcv}  # fmt: skip
    text = key_file_text(prod_entry(), entry, test=False)
    with pytest.raises(PublishedTestKeyError, match=r"654321/3/VUDK \(KCV") as info:
        parse_key_file(text)
    assert "nothing was imported" in info.value.message
    assert not any(secret in info.value.message for secret in SECRET_SPELLINGS)
    # The same key as a TEST key is what the demo keyset is.
    assert parse_key_file(key_file_text(entry, test=True)).records[0].kcv == record.kcv


def test_a_production_keystore_refuses_a_key_file_built_in_code(tmp_path: Path) -> None:
    store = SealedKeystore.create(
        tmp_path / "keys.json", test=False, kek=KekSource.from_hex("5a" * 32)
    )
    demo = demo_key_file().entries[0]
    record = KeyRecord(sgc=654321, krn=1, dkga="02", vending_key_type="VUDK",
                       kcv=demo.record.kcv, test=False)  # fmt: skip
    forged = KeyFile(test=False, entries=(KeyFileEntry(record, demo.key),))
    with pytest.raises(PublishedTestKeyError):
        store.import_key_file(forged)
    assert len(SealedKeystore.open(tmp_path / "keys.json", KekSource.from_hex("5a" * 32))) == 0


@given(st.binary(min_size=8, max_size=8))
def test_other_des_keys_are_accepted_as_production(key: bytes) -> None:
    kcv = vending_key_check_value(key, "02")
    entry = prod_entry(key=key.hex(), kcv=kcv)
    if published_test_key("02", kcv) is not None:
        with pytest.raises(PublishedTestKeyError):
            parse_key_file(key_file_text(entry, test=False))
    else:
        assert parse_key_file(key_file_text(entry, test=False)).records[0].kcv == kcv


def test_the_production_key_of_these_tests_is_not_published() -> None:
    assert published_test_key("02", vending_key_check_value(bytes.fromhex(VK_PROD), "02")) is None
