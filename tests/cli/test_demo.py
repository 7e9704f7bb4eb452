"""``stsvend demo`` on a fresh machine, twice; and the commands' modules load light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stsvend_cli.exit_codes import exit_code_for
from stsvend_cli.registry import COMMANDS
from tests.cli.conftest import STSVEND


def _demo(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")}
    env.update(STSVEND_DATA_DIR=str(data_dir), COLUMNS="160")
    proc = subprocess.run([*STSVEND, "demo", *args], capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip
    assert "Traceback" not in proc.stderr
    return proc


def test_the_demo_on_a_fresh_machine_then_again(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "stsvend"
    first = _demo(data)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    for needed in ("TEST", "created meter 01234567897 on its default key", "Key change 1 of 2",
                   "1st KCT entered", "new key installed", "key change confirmed",
                   "Receipt 1", "SGC 123456"):  # fmt: skip
        assert needed in out, needed
    assert (data / "stsvend.db").exists() and (data / "demo-keystore.json").exists()
    assert (data / "demo-kek.hex").stat().st_mode & 0o077 == 0
    # The simulated meter's saved state holds its decoder key: only the owner may read it.
    assert (data / "demo-meter.json").stat().st_mode & 0o077 == 0
    second = _demo(data, "--json")
    assert second.returncode == 0, second.stderr
    doc = json.loads(second.stdout)
    assert doc["test"] is True and doc["created"] == []
    assert [t["label"] for t in doc["receipt"]["tokens"]] == ["Credit"]
    assert doc["receipt"]["receipt"] == 2
    [answer] = doc["meter"]["answers"]
    assert answer["accepted"] and answer["label"] == "Accept"
    assert doc["meter"]["status"]["key"]["key_type"] == 2


def test_the_demo_never_mixes_with_an_imported_keystore(tmp_path: Path) -> None:
    data = tmp_path / "prod"
    data.mkdir()
    (data / "keystore.json").write_text("{}")
    proc = _demo(data)
    assert proc.returncode == exit_code_for("keystore_mode")
    assert "never mixes" in proc.stderr


@pytest.mark.parametrize("module", sorted({target.split(":")[0] for target in COMMANDS.values()}))
def test_command_modules_load_without_the_storage_stack(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "print([m for m in ('sqlalchemy', 'alembic', 'rich', 'psycopg') if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
