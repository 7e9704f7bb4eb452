"""What stsvend leaves on disk: the database, its data directory and exports are its owner's
only; an export appears whole or not at all and is always in the operation log; a KEK file is
never kept beside the keystore it opens."""

from __future__ import annotations

import csv
import sqlite3
import stat
from pathlib import Path

import pytest

from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import KEK, PINS, Cli, M


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_and_its_wal_files_are_private(tmp_path: Path) -> None:
    fresh = Cli(tmp_path / "new")
    fresh.ok("init", "--admin", "admin", role=None, STSVEND_PIN=PINS["admin"])
    db = fresh.data_dir / "stsvend.db"
    assert _mode(fresh.data_dir) == 0o700 and _mode(db) == 0o600
    reader = sqlite3.connect(db)  # keeps the -wal and -shm files while commands run
    try:
        reader.execute("SELECT count(*) FROM operator").fetchone()
        fresh.ok("operators", "list")
        for suffix in ("-wal", "-shm"):
            assert _mode(db.with_name(db.name + suffix)) == 0o600, suffix
    finally:
        reader.close()


def test_a_command_on_a_missing_data_directory_makes_it_private(tmp_path: Path) -> None:
    fresh = Cli(tmp_path / "not-yet")
    proc = fresh.run("meters", "list", role="clerk")
    assert proc.returncode == exit_code_for("storage") and "stsvend init" in proc.stderr
    assert _mode(fresh.data_dir) == 0o700
    assert _mode(fresh.data_dir / "stsvend.db") == 0o600


def test_an_open_database_and_data_directory_are_tightened_once(cli: Cli) -> None:
    cli.data_dir.chmod(0o755)
    db = cli.data_dir / "stsvend.db"
    if cli.database_url is None:
        db.chmod(0o644)
    first = cli.run("meters", "list", role="clerk")
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("note: the data directory") == 1
    assert "mode 0755" in first.stderr and "now 0700" in first.stderr
    assert _mode(cli.data_dir) == 0o700
    if cli.database_url is None:
        assert _mode(db) == 0o600
    again = cli.run("meters", "list", role="clerk")
    assert again.returncode == 0 and again.stderr == ""


def test_an_export_file_is_private_and_recorded(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out" / "log.csv"
    target.parent.mkdir()
    proc = cli.run("log", "export", "--meter", M[1], "-o", str(target), role="supervisor")
    assert proc.returncode == 0, proc.stderr
    assert _mode(target) == 0o600
    [row] = list(csv.DictReader(target.open()))
    assert len(row["digits"]) == 20
    # The export and its manifest, both private; no temporary file is left behind.
    assert sorted(p.name for p in target.parent.iterdir()) == ["log.csv", "log.csv.manifest.json"]
    assert _mode(target.parent / "log.csv.manifest.json") == 0o600
    [(who, outcome, detail)] = cli.operations("log.export")
    assert (who, outcome) == ("supervisor", "ok")
    assert {k: detail[k] for k in ("rows", "digits", "format", "filter")} == {
        "rows": 1, "digits": True, "format": "csv", "filter": {"meter": M[1]}
    }  # fmt: skip
    assert row["digits"] not in str(detail)
    proc = cli.run("log", "verify", role="auditor")
    assert proc.returncode == 0, proc.stderr
    [(who, outcome, detail)] = cli.operations("log.verify")
    assert (who, outcome) == ("auditor", "ok") and detail["findings"] == 0


_REFUSE_EXPORT = {
    "sqlite": [
        "CREATE TRIGGER no_export BEFORE INSERT ON operation_log "
        "WHEN NEW.action = 'log.export' AND NEW.outcome = 'ok' "
        "BEGIN SELECT RAISE(ABORT, 'the export is refused'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION no_export() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'the export is refused'; END $$",
        "CREATE TRIGGER no_export BEFORE INSERT ON operation_log FOR EACH ROW "
        "WHEN (NEW.action = 'log.export' AND NEW.outcome = 'ok') EXECUTE FUNCTION no_export()",
    ],
}
_ALLOW_EXPORT = {
    "sqlite": ["DROP TRIGGER no_export"],
    "postgresql": ["DROP TRIGGER no_export ON operation_log", "DROP FUNCTION no_export()"],
}


def test_a_failed_export_leaves_no_file_and_is_recorded(cli: Cli, tmp_path: Path) -> None:
    kind = "sqlite" if cli.database_url is None else "postgresql"
    target = tmp_path / "out" / "log.csv"
    target.parent.mkdir()
    for statement in _REFUSE_EXPORT[kind]:
        cli.sql(statement)
    try:
        proc = cli.run("log", "export", "-o", str(target), role="supervisor")
    finally:
        for statement in _ALLOW_EXPORT[kind]:
            cli.sql(statement)
    assert proc.returncode == exit_code_for("storage"), proc.stderr
    assert "the export is refused" in proc.stderr
    assert list(target.parent.iterdir()) == []  # no file, no temporary file, no digits
    [(who, outcome, detail)] = cli.operations("log.export")
    assert (who, outcome) == ("supervisor", "failed")
    assert detail == {"digits": True, "format": "csv", "filter": {}, "error": "storage"}


def test_an_export_to_a_folder_that_cannot_be_written(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "log.csv"
    proc = cli.run("log", "export", "-o", str(target), role="auditor")
    assert proc.returncode == exit_code_for("output_file") == 8
    assert proc.stderr.startswith("error: cannot write") and str(target) in proc.stderr
    assert not target.parent.exists()


def _kek_file(path: Path) -> Path:
    path.write_text(KEK + "\n")
    path.chmod(0o600)
    return path


def test_a_kek_file_inside_the_data_directory_is_refused(cli: Cli, tmp_path: Path) -> None:
    inside = _kek_file(cli.data_dir / "kek.hex")
    outside = _kek_file(tmp_path / "kek.hex")
    proc = cli.run("keys", "list", role="auditor", STSVEND_KEK="", STSVEND_KEK_FILE=str(inside))
    assert proc.returncode == exit_code_for("kek") == 4
    assert "inside the data directory" in proc.stderr and KEK not in proc.stderr
    proc = cli.run("vend", M[2], "10", role="clerk", STSVEND_KEK="",
                   STSVEND_KEK_FILE=str(cli.data_dir / "sub" / ".." / "kek.hex"))  # fmt: skip
    assert proc.returncode == 4 and "inside the data directory" in proc.stderr
    listed = cli.json("keys", "list", role="auditor", STSVEND_KEK="",
                      STSVEND_KEK_FILE=str(outside))  # fmt: skip
    assert len(listed) == 5


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["keys", "change-kek"], {"STSVEND_KEK": "", "STSVEND_KEK_FILE": "{inside}",
                                  "STSVEND_NEW_KEK": "c3" * 32}),
        (["keys", "change-kek"], {"STSVEND_NEW_KEK_FILE": "{inside}"}),
        (["keys", "import", "{keyfile}"], {"STSVEND_KEK": "", "STSVEND_KEK_FILE": "{inside}"}),
    ],
    ids=["current-kek", "new-kek", "import"],
)  # fmt: skip
def test_key_custody_refuses_a_kek_file_inside_the_data_directory(
    cli: Cli, tmp_path: Path, args: list[str], env: dict[str, str]
) -> None:
    from stsvend.keystore import DEMO_KEY_FILE_TEXT

    inside = _kek_file(cli.data_dir / "new-kek.hex")
    keyfile = tmp_path / "keys.toml"
    keyfile.write_text(DEMO_KEY_FILE_TEXT)
    keystore = (cli.data_dir / "keystore.json").read_bytes()
    names = {"inside": str(inside), "keyfile": str(keyfile)}
    proc = cli.run(*[a.format(**names) for a in args],
                   **{k: v.format(**names) for k, v in env.items()})  # fmt: skip
    assert proc.returncode == exit_code_for("kek") == 4, proc.stderr
    assert "inside the data directory" in proc.stderr
    assert (cli.data_dir / "keystore.json").read_bytes() == keystore
