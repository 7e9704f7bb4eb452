"""The demo keyset: built in, TEST everywhere, a KEK generated once (0600), safe to rerun."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from stsvend import sts
from stsvend.keystore import (
    DEMO_KEK_FILE,
    DEMO_KEYSTORE_FILE,
    KekError,
    KekSource,
    SealedKeystore,
    demo_security_module,
    open_demo_keystore,
)
from tests.keystore.conftest import METER, UNIQUE


def test_first_use_generates_a_kek_and_seals_the_demo_keys(folder: Path) -> None:
    store = open_demo_keystore(folder, random_bytes=os.urandom)
    kek_path = folder / DEMO_KEK_FILE
    assert stat.S_IMODE(kek_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / DEMO_KEYSTORE_FILE).stat().st_mode) == 0o600
    assert store.test and len(store) == 5 and all(r.test for r in store.records())
    again = SealedKeystore.open(folder / DEMO_KEYSTORE_FILE, KekSource.from_file(kek_path))
    assert again.records() == store.records()


def test_running_twice_reuses_the_kek_and_the_keystore(folder: Path) -> None:
    open_demo_keystore(folder)
    kek_before = (folder / DEMO_KEK_FILE).read_bytes()
    store_before = (folder / DEMO_KEYSTORE_FILE).read_bytes()
    module = demo_security_module(folder)
    assert (folder / DEMO_KEK_FILE).read_bytes() == kek_before
    assert (folder / DEMO_KEYSTORE_FILE).read_bytes() == store_before
    token = module.encode_token(METER, UNIQUE, 0, 0, {"rnd": 5, "tid": 5871715, "amount_field": 1})
    assert token == "23716100501183194197"


def test_the_header_records_a_generated_kek(folder: Path) -> None:
    import json

    open_demo_keystore(folder)
    header = json.loads((folder / DEMO_KEYSTORE_FILE).read_text())
    assert header["mode"] == "test" and header["kek"] == {"kind": "raw", "origin": "generated"}


def test_a_lost_demo_kek_is_reported(folder: Path) -> None:
    open_demo_keystore(folder)
    (folder / DEMO_KEK_FILE).unlink()
    with pytest.raises(KekError, match="delete the demo keystore"):
        open_demo_keystore(folder)


def _open(folder: str) -> None:
    module = demo_security_module(folder)
    assert module.key_record_for(UNIQUE).test


def test_first_use_from_several_processes_at_once(folder: Path) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_open, args=(str(folder),)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert [w.exitcode for w in workers] == [0] * 4
    assert len(demo_security_module(folder).key_records()) == 5


def test_demo_covers_commissioning_krn_change_and_rollover(folder: Path) -> None:
    module = demo_security_module(folder)
    default = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=1)
    assert len(module.key_change_tokens(METER, default, UNIQUE, rollover=False)) == 2
    unique_1993 = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=1993)
    krn2_2014 = sts.KeyData(sgc=123456, ti=1, krn=2, key_type=2, base_date=2014)
    assert len(module.key_change_tokens(METER, unique_1993, krn2_2014, rollover=True)) == 2
    old = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993)
    new = sts.KeyData(sgc=123457, ti=1, krn=4, key_type=2, base_date=2014)
    assert len(module.key_change_tokens(METER, old, new, rollover=True)) == 2
