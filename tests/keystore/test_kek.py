"""Key-encryption keys: passphrase (scrypt), raw hex, environment, files, generation."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from stsvend.keystore import KdfParams, KekError, KekSource, create_kek_file
from stsvend.keystore.kek import derive_kek

FAST = {"n": 2**10, "r": 8, "p": 1}


def test_passphrase_is_stretched_with_the_stored_scrypt_parameters() -> None:
    params = KdfParams.scrypt(bytes(range(16)), **FAST)
    kek = derive_kek(KekSource.passphrase("correct horse battery"), params)
    expected = hashlib.scrypt(b"correct horse battery", salt=bytes(range(16)), dklen=32, **FAST)
    assert kek.reveal() == expected


def test_default_scrypt_cost_is_the_owasp_minimum() -> None:
    params = KdfParams.scrypt(bytes(16))
    assert (params.n, params.r, params.p) == (2**17, 8, 1)


def test_raw_kek_passes_through() -> None:
    assert derive_kek(KekSource.from_hex("ab" * 32), KdfParams.raw()).reveal() == b"\xab" * 32


def test_kind_mismatch_is_refused() -> None:
    with pytest.raises(KekError, match="sealed under a passphrase"):
        derive_kek(KekSource.from_hex("ab" * 32), KdfParams.scrypt(bytes(16), **FAST))
    with pytest.raises(KekError, match="sealed under a raw KEK"):
        derive_kek(KekSource.passphrase("long enough phrase"), KdfParams.raw())


@pytest.mark.parametrize("text", ["", "ab" * 31, "ab" * 33, "zz" * 32, None])
def test_malformed_raw_keks_are_refused(text: object) -> None:
    with pytest.raises(KekError, match="64 hexadecimal digits"):
        KekSource.from_hex(text)  # type: ignore[arg-type]


def test_short_passphrases_are_refused() -> None:
    with pytest.raises(KekError, match="at least 8"):
        KekSource.passphrase("short")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n": 2**9}, "scrypt n"),
        ({"n": 2**21}, "scrypt n"),
        ({"n": 3000}, "power of two"),
        ({"r": 0}, "scrypt r"),
        ({"p": 17}, "scrypt p"),
    ],
)
def test_scrypt_parameters_are_bounded(params: dict[str, int], message: str) -> None:
    with pytest.raises(KekError, match=message):
        KdfParams.scrypt(bytes(16), **params)


def test_scrypt_salt_is_at_least_16_bytes() -> None:
    with pytest.raises(KekError, match="salt"):
        KdfParams.scrypt(bytes(8))


def test_header_round_trip_and_refusals() -> None:
    params = KdfParams.scrypt(bytes(range(16)), **FAST)
    assert KdfParams.from_dict(params.as_dict()) == params
    assert KdfParams.from_dict(KdfParams.raw(origin="generated").as_dict()).origin == "generated"
    for bad in (None, {"kind": "argon"}, {"kind": "raw", "origin": "x"},
                {"kind": "scrypt", "salt": "zz", "n": 1024, "r": 8, "p": 1},
                {"kind": "scrypt", "n": 1024}):  # fmt: skip
        with pytest.raises(KekError):
            KdfParams.from_dict(bad)


def test_environment_sources() -> None:
    assert KekSource.from_environment({"STSVEND_KEK": "11" * 32}).kind == "raw"
    assert KekSource.from_environment({"STSVEND_KEK_PASSPHRASE": "a long phrase"}).kind == (
        "passphrase"
    )
    with pytest.raises(KekError, match="no key-encryption key"):
        KekSource.from_environment({})
    with pytest.raises(KekError, match="set only one"):
        KekSource.from_environment({"STSVEND_KEK": "11" * 32, "STSVEND_KEK_PASSPHRASE": "x" * 9})
    with pytest.raises(KekError, match="STSVEND_KEK must be 64"):
        KekSource.from_environment({"STSVEND_KEK": "1234"})


def test_environment_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STSVEND_KEK", "STSVEND_KEK_FILE", "STSVEND_KEK_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STSVEND_KEK", "22" * 32)
    assert derive_kek(KekSource.from_environment(), KdfParams.raw()).reveal() == b"\x22" * 32


def test_kek_files_are_created_0600_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "kek.hex"
    source = KekSource.generate(lambda n: b"\x07" * n)
    assert source.generated
    create_kek_file(path, source)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "07" * 32 + "\n"
    with pytest.raises(KekError, match="already exists"):
        create_kek_file(path, KekSource.generate())
    loaded = KekSource.from_file(path)
    assert derive_kek(loaded, KdfParams.raw()).reveal() == b"\x07" * 32
    assert not loaded.generated  # read back, it is simply the operator's KEK file
    with pytest.raises(KekError, match="only a raw KEK"):
        create_kek_file(tmp_path / "p.hex", KekSource.passphrase("long enough"))


def test_kek_file_via_environment(tmp_path: Path) -> None:
    path = tmp_path / "kek.hex"
    create_kek_file(path, KekSource.from_hex("33" * 32))
    source = KekSource.from_environment({"STSVEND_KEK_FILE": str(path)})
    assert derive_kek(source, KdfParams.raw()).reveal() == b"\x33" * 32


def test_kek_files_open_to_others_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek.hex"
    path.write_text("44" * 32)
    os.chmod(path, 0o644)
    with pytest.raises(KekError, match="make it 0600"):
        KekSource.from_file(path)


def test_missing_or_malformed_kek_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KekError, match="no KEK file"):
        KekSource.from_file(tmp_path / "absent")
    path = tmp_path / "bad.hex"
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KekError, match="does not hold 64 hex digits"):
        KekSource.from_file(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(KekError, match="cannot read"):
        KekSource.from_file(path)
