"""A ``keys import`` killed with SIGKILL while its sealed temporary copy of the keystore exists.

The process is real: a ``sitecustomize`` on its path (test-only, nothing in stsvend reads it)
holds ``os.replace`` of ``keystore.json`` until the test has looked at the temporary copy and
killed the process.  The next command removes the copy; a change of KEK as the next command
leaves no file that the old KEK opens.  On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from stsvend.keystore import KekSource, SealedKeystore, WrongKekError
from tests.cli.keys_install import (
    KEK,
    PRODUCTION_160_KEY,
    Install,
    installation,
    key_file,
    keys_initialised,
    production_entry,
)

__all__ = ["installation", "keys_initialised"]

NEW_KEK = "d4" * 32
STALL = '''
import os, time
_replace = os.replace
def _stalled(src, dst, *args, **kwargs):
    if os.fspath(dst).endswith("/keystore.json"):
        open(os.environ["TEST_STALL_SIGNAL"], "w").close()
        time.sleep(300)
    return _replace(src, dst, *args, **kwargs)
os.replace = _stalled
'''
TEMP_NAME = re.compile(r"\.keystore\.json\.[A-Za-z0-9_]+\.stsvend-tmp")


def _killed_import(inst: Install, tmp_path: Path) -> Path:
    """Import a first key file, then kill an import of a second one at its rename; the
    temporary copy it left (checked: owner-only, beside the keystore, recognisable, a whole
    keystore sealed under the KEK)."""
    first = inst.write("first.toml", key_file(production_entry(sgc="654321")))
    inst.ok("keys", "import", str(first))
    second = inst.write("second.toml", key_file(
        production_entry(sgc="654322", dkga="04", key=PRODUCTION_160_KEY)
    ))  # fmt: skip
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(STALL)
    signal_file = tmp_path / "stalled"
    path = os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH", "")]))
    proc = inst.spawn("keys", "import", str(second), PYTHONPATH=path,
                      TEST_STALL_SIGNAL=str(signal_file))  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not signal_file.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the import never reached its rename"
            time.sleep(0.05)
        [temp] = [p for p in inst.data_dir.iterdir() if p.name.endswith("tmp")]
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:  # pragma: no cover - only when an assertion failed above
            proc.kill()
            proc.wait()
        proc.communicate()
    assert temp.exists() and temp.parent == inst.data_dir and TEMP_NAME.fullmatch(temp.name)
    assert stat.S_IMODE(temp.stat().st_mode) == 0o600
    sealed_copy = SealedKeystore.open(_copy(temp, tmp_path), KekSource.from_hex(KEK))
    assert [r.key_id for r in sealed_copy.records()] == ["654321/1/VUDK", "654322/1/VUDK"]
    return temp


def _copy(temp: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy" / "keystore.json"
    target.parent.mkdir(mode=0o700)
    target.write_bytes(temp.read_bytes())
    return target


def _keystore_documents(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        try:
            document = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and document.get("format") == "stsvend-keystore/1":
            found.append(path)
    return found


def test_the_next_command_removes_the_killed_imports_copy(
    installation: Install, tmp_path: Path
) -> None:
    temp = _killed_import(installation, tmp_path)
    listed = installation.json("keys", "list")
    assert [k["key_id"] for k in listed] == ["654321/1/VUDK"]
    assert not temp.exists()
    assert [p.name for p in installation.data_dir.iterdir() if "tmp" in p.name] == []
    # The import can simply be run again.
    second = installation.data_dir.parent / "second.toml"
    assert "1 key(s) added" in installation.ok("keys", "import", str(second))


def test_a_kek_change_leaves_nothing_the_old_kek_opens(
    installation: Install, tmp_path: Path
) -> None:
    temp = _killed_import(installation, tmp_path)
    data = installation.json("keys", "change-kek", STSVEND_NEW_KEK=NEW_KEK)
    assert data["changed"] is True and data["keys"] == 1
    assert not temp.exists()
    documents = _keystore_documents(installation.data_dir)
    assert documents == [installation.data_dir / "keystore.json"]
    for path in documents:
        with pytest.raises(WrongKekError):
            SealedKeystore.open(path, KekSource.from_hex(KEK))
        assert len(SealedKeystore.open(path, KekSource.from_hex(NEW_KEK))) == 1
    listed = installation.json("keys", "list", STSVEND_KEK=NEW_KEK)
    assert [k["key_id"] for k in listed] == ["654321/1/VUDK"]


def test_a_copy_left_by_an_earlier_version_is_removed_too(installation: Install) -> None:
    first = installation.write("first.toml", key_file(production_entry(sgc="654321")))
    installation.ok("keys", "import", str(first))
    legacy = installation.data_dir / ".keystore.json.k1ll3d_x.tmp"
    legacy.write_bytes((installation.data_dir / "keystore.json").read_bytes())
    unrelated = installation.data_dir / "notes.tmp"
    unrelated.write_text("not ours")
    installation.ok("keys", "list")
    assert not legacy.exists() and unrelated.exists()


def test_the_hook_is_not_in_stsvend() -> None:
    # The stall lives only in this test's sitecustomize: no stsvend module reads its variable.
    source = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        ["grep", "-rl", "TEST_STALL_SIGNAL", str(source / "src"), str(source / "cli")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.stdout == ""
