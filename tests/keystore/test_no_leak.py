"""No key material leaves the keystore: not in a return value, a repr, a log line or an error.

The secrets looked for: the three vending keys, the decoder keys of the meters used, the KEK
and the passphrase, each as lower- and upper-case hex, as a bytes repr and as a list of ints;
for return values also the 32-bit halves of every decoder key as integers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from stsvend import sts
from stsvend.errors import StsError
from stsvend.keystore import (
    KekSource,
    SealedKeystore,
    SoftwareSecurityModule,
    demo_key_file,
    open_demo_keystore,
    parse_key_file,
)
from stsvend.keystore.kek import derive_kek
from tests.keystore.conftest import (
    DEFAULT,
    METER,
    SECRET_SPELLINGS,
    UNIQUE,
    VK_160,
    VK_AB,
    ab_entry,
    key_file_text,
)

KEK_HEX = "5a" * 32
PASSPHRASE = "this passphrase never leaks"
ROLL_FROM = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993)
ROLL_TO = sts.KeyData(sgc=123457, ti=1, krn=4, key_type=2, base_date=2014)
EA11 = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, ea="11")
EA11_NEW = sts.KeyData(sgc=123457, ti=3, krn=1, key_type=2, ea="11")


def _decoder_keys() -> list[bytes]:
    ab, vk160 = bytes.fromhex(VK_AB), bytes.fromhex(VK_160)
    keys = [sts.derive_decoder_key(ab, METER, data).value for data in (UNIQUE, DEFAULT)]
    keys += [sts.derive_decoder_key(vk160, METER, data, "04").value
             for data in (ROLL_FROM, ROLL_TO, EA11, EA11_NEW)]  # fmt: skip
    return keys


DECODER_KEYS = _decoder_keys()
SECRETS: tuple[str, ...] = (
    SECRET_SPELLINGS
    + tuple(
        spelling
        for raw in [*DECODER_KEYS, bytes.fromhex(KEK_HEX)]
        for spelling in (raw.hex(), raw.hex().upper(), repr(raw), str(list(raw)))
    )
    + (PASSPHRASE,)
)
#: 32-bit sections of decoder keys: a decoded field must never equal one.
KEY_WORDS = {int.from_bytes(k[i : i + 4], "big") for k in DECODER_KEYS for i in range(0, len(k), 4)}


def _texts(value: Any, depth: int = 0) -> Iterator[str]:
    """Every text a value shows: its repr and str, and those of what it holds."""
    yield repr(value)
    yield str(value)
    if depth > 4:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(k, depth + 1)
            yield from _texts(v, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _texts(item, depth + 1)
    elif attrs.has(type(value)):
        # Public attributes only: SecretBytes keeps its bytes private, behind reveal().
        for f in attrs.fields(type(value)):
            if not f.name.startswith("_"):
                yield from _texts(getattr(value, f.name), depth + 1)


def _ints(value: Any, depth: int = 0) -> Iterator[int]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif depth < 5 and isinstance(value, dict):
        for v in value.values():
            yield from _ints(v, depth + 1)
    elif depth < 5 and isinstance(value, list | tuple):
        for v in value:
            yield from _ints(v, depth + 1)
    elif depth < 5 and attrs.has(type(value)):
        for f in attrs.fields(type(value)):
            if f.name != "layout" and not f.name.startswith("_"):
                yield from _ints(getattr(value, f.name), depth + 1)


def assert_clean(value: Any) -> None:
    for text in _texts(value):
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{text[:80]!r} shows key material"
    assert not set(_ints(value)) & KEY_WORDS, "a decoder key section came back as a number"


def assert_clean_error(error: BaseException) -> None:
    seen: BaseException | None = error
    while seen is not None:
        assert_clean(seen)
        assert_clean(seen.args)
        seen = seen.__cause__ or seen.__context__


@pytest.fixture()
def everything(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    caplog.set_level(logging.DEBUG)
    kek = KekSource.from_hex(KEK_HEX)
    store = SealedKeystore.create(tmp_path / "keys.json", test=True, kek=kek)
    result = store.import_key_file(demo_key_file())
    module = SealedKeystore.open(tmp_path / "keys.json", kek).security_module()
    demo = open_demo_keystore(tmp_path / "demo")
    passphrase = KekSource.passphrase(PASSPHRASE)
    return {"kek": kek, "store": store, "result": result, "module": module, "demo": demo,
            "passphrase": passphrase, "path": tmp_path / "keys.json", "tmp": tmp_path}  # fmt: skip


def test_every_object_shows_no_key(everything: dict[str, Any]) -> None:
    kf = demo_key_file()
    log_key = everything["store"].application_key("token-log")
    assert not [s for s in SECRETS if s in repr(log_key)]
    assert log_key.reveal().hex() not in repr(everything["store"]) + str(log_key)
    objects = [kf, *kf.entries, *kf.records, everything["kek"], everything["passphrase"],
               everything["store"], everything["result"], everything["module"],
               everything["demo"], derive_kek(everything["kek"], everything["store"]._params),
               *everything["store"].records()]  # fmt: skip
    for item in objects:
        assert_clean(item)


def test_every_method_returns_no_key(everything: dict[str, Any]) -> None:
    module: SoftwareSecurityModule = everything["module"]
    returns: list[Any] = [module.key_records(), module.test]
    for data in (UNIQUE, DEFAULT, ROLL_FROM, ROLL_TO, EA11, EA11_NEW):
        returns.append(module.key_record_for(data))
        kcv = module.decoder_key_check_value(METER, data)
        returns.append(kcv)
        for key in DECODER_KEYS:
            assert kcv.lower() not in key.hex()
    fields = {"rnd": 3, "tid": 77, "amount_field": 55}
    returns.append(module.encode_token(METER, UNIQUE, 0, 0, fields))
    sets = [module.key_change_tokens(METER, DEFAULT, UNIQUE, rollover=False, with_sgc=True),
            module.key_change_tokens(METER, ROLL_FROM, ROLL_TO, rollover=True),
            module.key_change_tokens(METER, EA11, EA11_NEW, rollover=False)]  # fmt: skip
    returns.extend(sets)
    for tokens, current in zip(sets, (DEFAULT, ROLL_FROM, EA11), strict=True):
        returns.extend(module.decode_token(METER, current, token) for token in tokens)
    for value in returns:
        assert_clean(value)


def test_logging_shows_no_key(everything: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    module: SoftwareSecurityModule = everything["module"]
    module.key_change_tokens(METER, DEFAULT, UNIQUE, rollover=False)
    with pytest.raises(StsError):
        SealedKeystore.open(everything["path"], KekSource.from_hex("00" * 32))
    for record in caplog.records:
        assert_clean(record.getMessage())
        assert_clean(record.args)


def _errors(everything: dict[str, Any]) -> list[Callable[[], Any]]:
    module: SoftwareSecurityModule = everything["module"]
    path: Path = everything["path"]
    tmp: Path = everything["tmp"]

    def tampered() -> Any:
        document = json.loads(path.read_text())
        document["keys"][0]["record"]["label"] = "changed"
        copy = tmp / "tampered.json"
        copy.write_text(json.dumps(document))
        return SealedKeystore.open(copy, everything["kek"])

    return [
        lambda: SealedKeystore.open(path, KekSource.from_hex("00" * 32)),
        lambda: SealedKeystore.open(path, everything["passphrase"]),
        tampered,
        lambda: parse_key_file(key_file_text(ab_entry(kcv="000000"))),
        lambda: parse_key_file(key_file_text(ab_entry(key=VK_AB[:-2] + "zz"))),
        lambda: parse_key_file(key_file_text(ab_entry(key=VK_160))),
        lambda: parse_key_file(key_file_text(ab_entry()) + "\n[[keys]\nkey = '" + VK_AB + "'"),
        lambda: module.key_record_for(sts.KeyData(sgc=1, ti=1, krn=1, key_type=2)),
        lambda: module.encode_token(METER, DEFAULT, 0, 0, {"rnd": 0, "tid": 0, "amount_field": 0}),
        lambda: module.encode_token(
            METER, UNIQUE, 0, 0, {"rnd": 0, "tid": 2**30, "amount_field": 0}
        ),
        lambda: module.encode_token(METER, UNIQUE, 2, 3, {}),
        lambda: module.key_change_tokens(METER, UNIQUE, UNIQUE, rollover=True),
        lambda: module.decode_token(METER, UNIQUE, "1" * 20),
        lambda: module.decode_token(METER, UNIQUE, "12"),
        lambda: KekSource.from_hex(KEK_HEX[:-1]),
    ]


def test_every_error_shows_no_key(everything: dict[str, Any]) -> None:
    for index, action in enumerate(_errors(everything)):
        with pytest.raises(StsError) as info:
            action()
        try:
            assert_clean_error(info.value)
        except AssertionError as exc:
            raise AssertionError(f"error #{index}: {exc}") from None


def test_the_check_catches_a_leak() -> None:
    # The checks above would notice key material, as this deliberate leak shows.
    with pytest.raises(AssertionError):
        assert_clean({"value": bytes.fromhex(VK_AB)})
    with pytest.raises(AssertionError):
        assert_clean({"nkho": int.from_bytes(DECODER_KEYS[0][:4], "big")})
