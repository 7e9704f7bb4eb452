"""Temporary copies of the keystore: recognisable, owner-only, beside it, and swept when no
writer can be busy (under the keystore's lock) by the next open, the next write and a change of
KEK (before and after it re-seals)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stsvend.keystore import KekSource, SealedKeystore, WrongKekError, demo_key_file
from stsvend.keystore.files import (
    TEMP_SUFFIX,
    locked,
    sweep_temp_files,
    temp_files,
    write_atomic,
)


def _left_behind(store: Path, name: str = "abc12345") -> Path:
    """What a writer killed before its rename leaves: the whole keystore, sealed, aside."""
    temp = store.with_name(f".{store.name}.{name}{TEMP_SUFFIX}")
    temp.write_bytes(store.read_bytes())
    temp.chmod(0o600)
    return temp


def test_a_write_is_aside_owner_only_and_named_for_its_file(tmp_path: Path) -> None:
    target = tmp_path / "data" / "keys.json"
    seen: list[tuple[str, int]] = []
    real = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((Path(src).name, stat.S_IMODE(os.stat(src).st_mode)))
        assert Path(src).parent == target.parent
        assert [p.name for p in temp_files(target)] == [Path(src).name]
        real(src, dst)

    os.replace = spy  # type: ignore[assignment]
    try:
        write_atomic(target, b"sealed")
    finally:
        os.replace = real
    [(name, mode)] = seen
    assert name.startswith(".keys.json.") and name.endswith(TEMP_SUFFIX) and mode == 0o600
    assert temp_files(target) == []


def test_only_this_files_copies_are_recognised(tmp_path: Path) -> None:
    target = tmp_path / "keys.json"
    names = [".keys.json.a1b2c3d4.stsvend-tmp", ".keys.json.a_b_c_d_.tmp", "keys.json.tmp",
             ".other.json.a1b2c3d4.stsvend-tmp", ".keys.json.a1b2c3d4.stsvend-tmp.bak",
             ".keys.json..tmp", "keys.json"]  # fmt: skip
    for name in names:
        (tmp_path / name).write_text("x")
    assert [p.name for p in temp_files(target)] == names[:2]
    with locked(target):
        assert sweep_temp_files(target) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[2:], "keys.json.lock"])
    assert temp_files(tmp_path / "absent" / "keys.json") == []


def test_open_sweeps_and_a_held_lock_is_not_waited_for(folder: Path, raw_kek: KekSource) -> None:
    path = folder / "keys.json"
    SealedKeystore.create(path, test=True, kek=raw_kek).import_key_file(demo_key_file())
    temp = _left_behind(path)
    with locked(path):  # a writer is busy: opening neither waits nor removes its file
        assert len(SealedKeystore.open(path, raw_kek)) == 5
        assert temp.exists()
    assert len(SealedKeystore.open(path, raw_kek)) == 5
    assert not temp.exists()
    # A wrong KEK does not stop the sweep: the copy is stale whoever opens.
    temp = _left_behind(path)
    with pytest.raises(WrongKekError):
        SealedKeystore.open(path, KekSource.from_hex("00" * 32))
    assert not temp.exists()


def test_every_write_sweeps(folder: Path, raw_kek: KekSource) -> None:
    path = folder / "keys.json"
    store = SealedKeystore.create(path, test=True, kek=raw_kek)
    temp = _left_behind(path)
    store.import_key_file(demo_key_file())
    assert not temp.exists()
    temp = _left_behind(path)
    store.application_key("token-log")
    assert not temp.exists()


def test_create_sweeps_what_a_killed_create_left(folder: Path, raw_kek: KekSource) -> None:
    folder.mkdir(mode=0o700)
    temp = folder / f".keys.json.k1ll3d00{TEMP_SUFFIX}"
    temp.write_text("{}")
    SealedKeystore.create(folder / "keys.json", test=True, kek=raw_kek)
    assert not temp.exists()


def test_a_change_of_kek_leaves_no_copy_under_the_old_kek(
    folder: Path, raw_kek: KekSource
) -> None:
    path = folder / "keys.json"
    SealedKeystore.create(path, test=True, kek=raw_kek).import_key_file(demo_key_file())
    store = SealedKeystore.open(path, raw_kek)
    copies = [_left_behind(path, "before01"), _left_behind(path, "before02")]
    store.change_kek(KekSource.from_hex("6c" * 32))
    assert not any(copy.exists() for copy in copies)
    assert temp_files(path) == []
    with pytest.raises(WrongKekError):
        SealedKeystore.open(path, raw_kek)


def test_a_clear_demo_kek_copy_left_by_a_killed_creator_is_removed(tmp_path: Path) -> None:
    from stsvend.keystore import DEMO_KEK_FILE, open_demo_keystore

    folder = tmp_path / "demo"
    open_demo_keystore(folder)
    kek_file = folder / DEMO_KEK_FILE
    copy = folder / f".{DEMO_KEK_FILE}.k1ll3d00{TEMP_SUFFIX}"
    copy.write_bytes(kek_file.read_bytes())
    assert len(open_demo_keystore(folder)) == 5
    assert not copy.exists() and kek_file.exists()
