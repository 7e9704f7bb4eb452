"""The auditor's desk: ``log operations`` (list, filter, export) and the manifest written beside
``log export`` and ``log operations --output``, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from stsvend.tokenlog.op_reader import OP_COLUMNS
from stsvend.tokenlog.reader import EXPORT_COLUMNS
from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import KEK, PINS, Cli, M

MANIFEST_KEYS = {"manifest", "kind", "file", "format", "bytes", "sha256", "rows", "digits",
                 "filter", "period", "anchor", "rows_covered_by_anchor", "made_at", "operator",
                 "terminal"}  # fmt: skip


def _ops(cli: Cli, *args: str, role: str = "auditor") -> Any:
    return cli.json("log", "operations", *args, role=role)


def test_listing_as_json(cli: Cli) -> None:
    out = _ops(cli)
    assert set(out) == {"filter", "count", "shown", "operations"}
    assert out["filter"] == {} and out["shown"] == min(out["count"], 100)
    first = out["operations"][0]
    assert set(first) == set(OP_COLUMNS)
    assert [o["id"] for o in out["operations"]] == sorted(o["id"] for o in out["operations"])
    actions = {o["action"] for o in out["operations"]}
    assert {"login", "shift.start", "operators.add"} <= actions
    # The listing is an operation too: the next listing shows it, with its filter and count.
    again = _ops(cli, "--action", "log.operations")
    assert again["count"] == 1
    entry = again["operations"][0]
    assert (entry["operator"], entry["terminal"], entry["outcome"]) == ("auditor", "T1", "ok")
    assert entry["detail"] == {"format": "list", "filter": {}, "rows": out["shown"]}


def test_filters_by_action_operator_terminal_outcome_and_period(cli: Cli) -> None:
    refused = cli.run("reverse", "1", "--reason", "customer paid twice", role="clerk")
    assert refused.returncode == exit_code_for("permission")
    logins = _ops(cli, "--action", "login", "--by-operator", "clerk")
    assert logins["count"] >= 2
    assert {(o["action"], o["operator"]) for o in logins["operations"]} == {("login", "clerk")}
    refusals = _ops(cli, "--outcome", "refused", "--by-operator", "clerk")
    assert refusals["count"] >= 1 and {o["outcome"] for o in refusals["operations"]} == {"refused"}
    assert "reverse" in {o["action"] for o in refusals["operations"]}
    # An action names itself and everything below it.
    below = _ops(cli, "--action", "operators")
    assert {o["action"] for o in below["operations"]} == {"operators.add"}
    assert all(o["action"].startswith("operators.") for o in below["operations"])
    assert _ops(cli, "--terminal", "T9")["count"] == 0
    assert _ops(cli, "--since", "2100-01-01")["count"] == 0
    assert _ops(cli, "--until", "2000-01-01T00:00Z")["count"] == 0
    limited = _ops(cli, "--limit", "3")
    assert limited["shown"] == 3 and limited["count"] > 3
    assert "the newest 3 shown" in cli.ok("log", "operations", "--limit", "3", role="auditor")


def test_refusals_and_bad_values(cli: Cli) -> None:
    proc = cli.run("log", "operations", role="clerk")
    assert proc.returncode == exit_code_for("permission")
    assert cli.operations("log.export")[-1][:2] == ("clerk", "refused")
    for args in (["--since", "yesterday"], ["--limit", "0"], ["--limit", "x"]):
        proc = cli.run("log", "operations", *args, role="auditor")
        assert proc.returncode == 3, (args, proc.stderr)


def _manifest(path: Path) -> dict[str, Any]:
    beside = path.with_name(path.name + ".manifest.json")
    data: dict[str, Any] = json.loads(beside.read_text())
    assert set(data) == MANIFEST_KEYS
    # The digest is the file's: anyone can check it without stsvend.
    assert data["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert data["bytes"] == path.stat().st_size
    assert (beside.stat().st_mode & 0o777) == 0o600
    return data


def test_log_export_writes_a_manifest_beside_the_csv(cli: Cli, tmp_path: Path) -> None:
    cli.ok("vend", M[2], "10", role="clerk")
    path = tmp_path / "tokens.csv"
    proc = cli.run("log", "export", "--since", "2000-01-01", "--until", "2100-01-01T00:00Z",
                   "-o", str(path), role="auditor")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "manifest tokens.csv.manifest.json" in proc.stderr
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert tuple(rows[0]) == EXPORT_COLUMNS  # the CSV's shape is unchanged
    m = _manifest(path)
    assert (m["file"], m["format"], m["rows"], m["kind"]) == ("tokens.csv", "csv",
                                                             len(rows) - 1, "token-log")
    assert m["period"] == {"since": "2000-01-01T00:00:00+00:00",
                           "until": "2100-01-01T00:00:00+00:00"}  # fmt: skip
    assert m["filter"] == {"since": m["period"]["since"], "until": m["period"]["until"]}
    assert (m["operator"], m["terminal"], m["digits"]) == ("auditor", "T1", False)
    # The export sealed first: its anchor covers every row, and verifies.
    assert m["anchor"] is not None and m["rows_covered_by_anchor"] == m["rows"]
    cli.ok("log", "verify", "--anchor", m["anchor"]["mac"], role="auditor")
    # The operation log keeps the same digest and seal, chained under the log key.
    _, outcome, detail = cli.operations("log.export")[-1]
    assert outcome == "ok" and detail["sha256"] == m["sha256"]
    assert detail["anchor_seal"] == m["anchor"]["seal"]


def test_a_jsonl_export_and_stdout_keep_their_shape(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "tokens.jsonl"
    cli.ok("log", "export", "--format", "jsonl", "-o", str(path), role="supervisor")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines and all(tuple(x) == EXPORT_COLUMNS for x in lines)
    m = _manifest(path)
    assert m["rows"] == len(lines) and m["digits"] is True  # supervisors see digits
    out = cli.ok("log", "export", role="auditor")  # standard output: no manifest to write
    assert out.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert not list(Path.cwd().glob("*.manifest.json"))


def test_operations_export_with_manifest(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "ops.csv"
    proc = cli.run("log", "operations", "--action", "login", "-o", str(path), role="auditor")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert rows and {r["action"] for r in rows} == {"login"}
    assert all(json.loads(r["detail"]) is not None for r in rows)
    m = _manifest(path)
    assert (m["kind"], m["rows"], m["filter"]) == ("operation-log", len(rows),
                                                  {"actions": ["login"]})  # fmt: skip
    assert m["rows_covered_by_anchor"] == m["rows"]  # sealed first: pending entries chained
    cli.ok("log", "verify", "--anchor", m["anchor"]["mac"], role="auditor")
    lines = cli.ok("log", "operations", "--format", "jsonl", "--action", "shift",
                   role="auditor").splitlines()  # fmt: skip
    assert lines and all(json.loads(x)["action"].startswith("shift.") for x in lines)


def test_no_digits_pins_or_keys_in_the_operation_log(cli: Cli, tmp_path: Path) -> None:
    sale = cli.json("vend", M[2], "10", role="clerk")
    digits = [t["digits"] for t in sale["tokens"]]
    cli.ok("reprint", str(sale["receipt"]), role="clerk")
    cli.ok("log", "export", "-o", str(tmp_path / "t.csv"), role="supervisor")
    cli.ok("log", "operations", role="auditor")
    path = tmp_path / "ops.jsonl"
    cli.ok("log", "operations", "--format", "jsonl", "-o", str(path), role="auditor")
    text = path.read_text()
    assert {"reprint", "log.export", "log.operations", "login"} <= {
        json.loads(x)["action"] for x in text.splitlines()}  # fmt: skip
    for secret in [*digits, *PINS.values(), KEK, "abababababababab"]:
        assert secret not in text


def test_docstring_examples_run() -> None:
    import doctest

    from stsvend.services import manifest, operations
    from stsvend.tokenlog import op_reader

    for module in (manifest, operations, op_reader):
        assert doctest.testmod(module).failed == 0
