"""The sealed keystore: encrypted at rest, atomic writes, wrong KEKs, tampering, modes."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path
from typing import Any

import pytest

from stsvend import sts
from stsvend.keystore import (
    KekError,
    KekSource,
    KeystoreError,
    KeystoreFileError,
    KeystoreMode,
    KeystoreModeError,
    SealedKeystore,
    WrongKekError,
    demo_key_file,
    parse_key_file,
)
from stsvend.keystore.files import temp_files
from tests.keystore.conftest import (
    METER,
    SECRET_SPELLINGS,
    UNIQUE,
    VK_94,
    ab_entry,
    key_file_text,
    prod_entry,
)


def _store(folder: Path, kek: KekSource, *, test: bool = True) -> SealedKeystore:
    return SealedKeystore.create(folder / "keys.json", test=test, kek=kek)


def test_round_trip_through_the_file(folder: Path, raw_kek: KekSource) -> None:
    store = _store(folder, raw_kek)
    result = store.import_key_file(demo_key_file())
    assert (result.added, result.unchanged, len(result.records)) == (5, 0, 5)
    again = SealedKeystore.open(folder / "keys.json", raw_kek)
    assert (
        again.records()
        == store.records()
        == tuple(sorted(demo_key_file().records, key=lambda r: r.key_id))
    )
    assert again.mode is KeystoreMode.TEST and again.test and len(again) == 5
    token = again.security_module().encode_token(
        METER, UNIQUE, 0, 0, {"rnd": 5, "tid": 5871715, "amount_field": 1}
    )
    assert token == "23716100501183194197"


def test_the_file_holds_no_key_material_and_is_0600(folder: Path, raw_kek: KekSource) -> None:
    _store(folder, raw_kek).import_key_file(demo_key_file())
    path = folder / "keys.json"
    text = path.read_text()
    assert not any(secret in text for secret in SECRET_SPELLINGS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    document = json.loads(text)
    assert document["format"] == "stsvend-keystore/1" and document["mode"] == "test"
    assert {e["record"]["kcv"] for e in document["keys"]} == {"C33F45", "31CE7A", "0F353D"}
    # Each seal has its own nonce.
    nonces = [e["nonce"] for e in document["keys"]] + [document["check"]["nonce"]]
    assert len(set(nonces)) == len(nonces)
    assert not list(temp_files(folder / "keys.json"))


def test_passphrase_keystores(folder: Path) -> None:
    kek = KekSource.passphrase("a passphrase for tests")
    store = SealedKeystore.create(folder / "keys.json", test=False, kek=kek, scrypt_n=2**10)
    store.import_key_file(parse_key_file(key_file_text(prod_entry(), test=False)))
    header = json.loads((folder / "keys.json").read_text())["kek"]
    assert header["kind"] == "scrypt" and header["n"] == 2**10 and len(header["salt"]) == 32
    again = SealedKeystore.open(folder / "keys.json", kek)
    assert again.mode is KeystoreMode.PRODUCTION
    assert [r.test for r in again.records()] == [False]
    with pytest.raises(WrongKekError, match="nothing was changed"):
        SealedKeystore.open(folder / "keys.json", KekSource.passphrase("another passphrase"))
    with pytest.raises(KekError, match="sealed under a passphrase"):
        SealedKeystore.open(folder / "keys.json", KekSource.from_hex("00" * 32))


def test_wrong_kek_changes_nothing(folder: Path, raw_kek: KekSource) -> None:
    _store(folder, raw_kek).import_key_file(demo_key_file())
    before = (folder / "keys.json").read_bytes()
    with pytest.raises(WrongKekError) as info:
        SealedKeystore.open(folder / "keys.json", KekSource.from_hex("5b" * 32))
    assert info.value.code == "wrong_kek"
    assert (folder / "keys.json").read_bytes() == before


def test_create_refuses_an_existing_file(folder: Path, raw_kek: KekSource) -> None:
    _store(folder, raw_kek)
    with pytest.raises(KeystoreFileError, match="already exists"):
        _store(folder, raw_kek)


def test_production_needs_an_explicit_kek(folder: Path) -> None:
    with pytest.raises(KeystoreModeError, match="explicit"):
        SealedKeystore.create(folder / "keys.json", test=False, kek=KekSource.generate())
    assert not (folder / "keys.json").exists()


def test_production_header_claiming_a_generated_kek_is_refused(
    folder: Path, raw_kek: KekSource
) -> None:
    _store(folder, raw_kek, test=False)
    path = folder / "keys.json"
    document = json.loads(path.read_text())
    document["kek"]["origin"] = "generated"
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreModeError, match="generated"):
        SealedKeystore.open(path, raw_kek)


def test_test_and_production_never_mix(folder: Path, raw_kek: KekSource) -> None:
    test_store = _store(folder / "t", raw_kek)
    prod_store = _store(folder / "p", raw_kek, test=False)
    with pytest.raises(KeystoreModeError, match="PRODUCTION key file cannot be imported"):
        test_store.import_key_file(parse_key_file(key_file_text(prod_entry(), test=False)))
    with pytest.raises(KeystoreModeError, match="TEST key file cannot be imported"):
        prod_store.import_key_file(demo_key_file())
    assert len(test_store) == len(prod_store) == 0


def test_import_is_idempotent_and_refuses_a_different_key(folder: Path, raw_kek: KekSource) -> None:
    store = _store(folder, raw_kek)
    store.import_key_file(demo_key_file())
    before = (folder / "keys.json").read_bytes()
    result = store.import_key_file(demo_key_file())
    assert (result.added, result.unchanged) == (0, 5)
    assert (folder / "keys.json").read_bytes() == before  # nothing to write
    clash = parse_key_file(key_file_text(ab_entry(key=VK_94, kcv="31CE7A")))
    with pytest.raises(KeystoreError, match="already in the keystore with KCV C33F45"):
        store.import_key_file(clash)
    assert (folder / "keys.json").read_bytes() == before


def _edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _flip_hex(text: str) -> str:
    return ("0" if text[0] != "0" else "1") + text[1:]


# fmt: off
TAMPERING = [
    ("record kcv", lambda d: d["keys"][0]["record"].update(kcv="000000"), KeystoreFileError),
    ("record krn", lambda d: d["keys"][0]["record"].update(krn=9), KeystoreFileError),
    ("record label", lambda d: d["keys"][0]["record"].update(label="x"), KeystoreFileError),
    ("sealed value", lambda d: d["keys"][0].update(sealed=_flip_hex(d["keys"][0]["sealed"])),
     KeystoreFileError),
    ("nonce", lambda d: d["keys"][0].update(nonce=_flip_hex(d["keys"][0]["nonce"])),
     KeystoreFileError),
    ("mode flipped", lambda d: d.update(mode="production"), WrongKekError),
    ("test flag", lambda d: d["keys"][0]["record"].update(test=False), KeystoreModeError),
    ("entry swapped", lambda d: d["keys"][0].update(sealed=d["keys"][2]["sealed"],
                                                    nonce=d["keys"][2]["nonce"]),
     KeystoreFileError),
    ("check removed", lambda d: d.pop("check"), KeystoreFileError),
    ("keys not a list", lambda d: d.update(keys={}), KeystoreFileError),
    ("entry not object", lambda d: d.update(keys=[1]), KeystoreFileError),
    ("record missing", lambda d: d["keys"][0]["record"].pop("sgc"), KeystoreFileError),
    ("record malformed", lambda d: d["keys"][0]["record"].update(krn=99), KeystoreFileError),
    ("duplicate", lambda d: d["keys"].append(d["keys"][0]), KeystoreFileError),
    ("short sealed", lambda d: d["keys"][0].update(sealed="00"), KeystoreFileError),
    ("format", lambda d: d.update(format="other"), KeystoreFileError),
    ("mode unknown", lambda d: d.update(mode="demo"), KeystoreFileError),
    ("kek kind", lambda d: d.update(kek={"kind": "argon2"}), KeystoreFileError),
]
# fmt: on


@pytest.mark.parametrize(("change", "error"), [(c, e) for _, c, e in TAMPERING],
                         ids=[name for name, _, _ in TAMPERING])  # fmt: skip
def test_tampering_is_detected(
    folder: Path, raw_kek: KekSource, change: Any, error: type[Exception]
) -> None:
    _store(folder, raw_kek).import_key_file(demo_key_file())
    _edit(folder / "keys.json", change)
    with pytest.raises(error) as info:
        SealedKeystore.open(folder / "keys.json", raw_kek)
    assert not any(secret in str(info.value) for secret in SECRET_SPELLINGS)


def test_missing_and_unreadable_keystores(folder: Path, raw_kek: KekSource) -> None:
    with pytest.raises(KeystoreFileError, match="no keystore"):
        SealedKeystore.open(folder / "absent.json", raw_kek)
    folder.mkdir(parents=True)
    (folder / "junk.json").write_text("{not json")
    with pytest.raises(KeystoreFileError, match="cannot be read"):
        SealedKeystore.open(folder / "junk.json", raw_kek)
    (folder / "list.json").write_text("[]")
    with pytest.raises(KeystoreFileError, match="not an stsvend keystore"):
        SealedKeystore.open(folder / "list.json", raw_kek)


def test_change_kek_reseals_every_key(folder: Path, raw_kek: KekSource) -> None:
    store = _store(folder, raw_kek)
    store.import_key_file(demo_key_file())
    new = KekSource.passphrase("the new passphrase")
    store.change_kek(new, scrypt_n=2**10)
    with pytest.raises(KekError):
        SealedKeystore.open(folder / "keys.json", raw_kek)
    assert SealedKeystore.open(folder / "keys.json", new).records() == store.records()
    store.change_kek(KekSource.from_hex("6c" * 32))
    assert len(SealedKeystore.open(folder / "keys.json", KekSource.from_hex("6c" * 32))) == 5


def test_change_kek_of_production_refuses_a_generated_kek(folder: Path, raw_kek: KekSource) -> None:
    store = _store(folder, raw_kek, test=False)
    with pytest.raises(KeystoreModeError):
        store.change_kek(KekSource.generate())
    assert len(SealedKeystore.open(folder / "keys.json", raw_kek)) == 0


def test_a_replaced_file_is_noticed_before_writing(folder: Path, raw_kek: KekSource) -> None:
    store = _store(folder, raw_kek)
    (folder / "keys.json").unlink()
    SealedKeystore.create(folder / "keys.json", test=False, kek=raw_kek)
    with pytest.raises(KeystoreFileError, match="replaced"):
        store.import_key_file(demo_key_file())


def test_a_failed_write_leaves_the_old_file(
    folder: Path, raw_kek: KekSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(folder, raw_kek)
    before = (folder / "keys.json").read_bytes()

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("stsvend.keystore.files.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        store.import_key_file(demo_key_file())
    assert (folder / "keys.json").read_bytes() == before
    assert len(store) == 0  # the in-memory view was rolled back too
    assert not list(temp_files(folder / "keys.json"))


def _import_one(path: str, kek_hex: str, krn: int) -> None:
    from stsvend.keystore.kcv import vending_key_check_value

    key = bytes([krn]) * 8
    entry = ab_entry(krn=krn, key=key.hex(), kcv=vending_key_check_value(key, "02"))
    store = SealedKeystore.open(path, KekSource.from_hex(kek_hex))
    store.import_key_file(parse_key_file(key_file_text(entry)))


def test_concurrent_imports_lose_nothing(folder: Path, raw_kek: KekSource) -> None:
    _store(folder, raw_kek)
    path = str(folder / "keys.json")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_import_one, args=(path, "5a" * 32, krn))
               for krn in range(1, 7)]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [w.exitcode for w in workers] == [0] * 6
    records = SealedKeystore.open(path, raw_kek).records()
    assert sorted(r.krn for r in records) == [1, 2, 3, 4, 5, 6]


def test_repr_names_the_file_not_the_keys(folder: Path, raw_kek: KekSource) -> None:
    store = _store(folder, raw_kek)
    store.import_key_file(demo_key_file())
    assert repr(store).endswith("mode=test, keys=5)")
    assert str(store.path) in repr(store)


def test_the_module_over_a_keystore_is_test_when_the_keystore_is(
    folder: Path, raw_kek: KekSource
) -> None:
    store = _store(folder, raw_kek)
    store.import_key_file(demo_key_file())
    module = store.security_module(cache_size=0)
    assert module.test
    assert module.key_record_for(UNIQUE).key_id == "123456/1/VUDK"
    assert module.decoder_key_check_value(METER, UNIQUE) == module.decoder_key_check_value(
        METER, sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
    )


def test_application_keys_are_made_once_and_kept_sealed(folder: Path, raw_kek: KekSource) -> None:
    store = _store(folder, raw_kek)
    first = store.application_key("token-log")
    assert len(first) == 32 and store.application_key("token-log") == first
    assert store.application_key("other") != first
    text = (folder / "keys.json").read_text()
    assert first.reveal().hex() not in text
    again = SealedKeystore.open(folder / "keys.json", raw_kek)
    assert again.application_key("token-log") == first
    # It survives a change of KEK, unlike a key derived from the KEK.
    again.change_kek(KekSource.from_hex("7d" * 32))
    reopened = SealedKeystore.open(folder / "keys.json", KekSource.from_hex("7d" * 32))
    assert reopened.application_key("token-log") == first


def test_application_keys_seen_by_another_opener(folder: Path, raw_kek: KekSource) -> None:
    one = _store(folder, raw_kek)
    two = SealedKeystore.open(folder / "keys.json", raw_kek)
    made = one.application_key("token-log")
    assert two.application_key("token-log") == made  # re-read under the lock, not made twice


@pytest.mark.parametrize("name", ["", "Token", "token log", "x" * 33, None])
def test_application_key_names(folder: Path, raw_kek: KekSource, name: object) -> None:
    with pytest.raises(KeystoreError, match="application key name"):
        _store(folder, raw_kek).application_key(name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [lambda d: d["app_keys"][0].update(name="renamed"),
     lambda d: d["app_keys"][0].update(sealed=_flip_hex(d["app_keys"][0]["sealed"])),
     lambda d: d["app_keys"].append(d["app_keys"][0]),
     lambda d: d.update(app_keys={}),
     lambda d: d["app_keys"].append(7)],
)  # fmt: skip
def test_application_key_tampering(folder: Path, raw_kek: KekSource, change: Any) -> None:
    _store(folder, raw_kek).application_key("token-log")
    _edit(folder / "keys.json", change)
    with pytest.raises(KeystoreFileError):
        SealedKeystore.open(folder / "keys.json", raw_kek)


def test_a_keystore_without_application_keys_still_opens(folder: Path, raw_kek: KekSource) -> None:
    _store(folder, raw_kek)
    _edit(folder / "keys.json", lambda d: d.pop("app_keys"))
    assert len(SealedKeystore.open(folder / "keys.json", raw_kek)) == 0


def test_a_failed_write_forgets_the_new_application_key(
    folder: Path, raw_kek: KekSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(folder, raw_kek)

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("stsvend.keystore.files.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        store.application_key("token-log")
    monkeypatch.undo()
    made = store.application_key("token-log")
    assert SealedKeystore.open(folder / "keys.json", raw_kek).application_key("token-log") == made
