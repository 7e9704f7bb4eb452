"""The meter's state file is durable once saved: the file and the folder holding its new name
are both synced before ``save`` returns (a power cut loses nothing the simulator reported)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stsvend_keypad.store import StateStore


def test_save_syncs_the_file_and_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[tuple[str, int]] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        info = os.fstat(fd)
        synced.append(("dir" if stat.S_ISDIR(info.st_mode) else "file", info.st_ino))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    store = StateStore(tmp_path / "m.state.json")
    store.save({"credit": 1})
    store.save({"credit": 2})
    monkeypatch.undo()
    assert store.load() == {"format": "stsvend-keypad-state", "version": 1,
                            "meter": {"credit": 2}}  # fmt: skip
    file_inode, folder_inode = store.path.stat().st_ino, tmp_path.stat().st_ino
    # The last save: its file's content first, then the folder (after the rename).
    assert synced[-2:] == [("file", file_inode), ("dir", folder_inode)]
    assert [kind for kind, _ in synced] == ["file", "dir", "file", "dir"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.state.json"]
