"""The first ten minutes of each user, run as that user would: ``stsvend`` as a program of its
own, in a fresh data directory, its output read as a person (or a script) reads it.  On SQLite
and on PostgreSQL (``fresh``).

Every path starts where the README's quick start ends, with ``stsvend demo`` in a new data
directory and nothing in the environment but that directory (and, on PostgreSQL, the database):
no utility, no currency, no operator, no PIN.  The PINs come from the demo's own output.

On SQLite every ``stsvend`` step runs as a process of its own; on PostgreSQL the same steps run
in-process (:meth:`Cli.run`, the same command line and environment): the process boundary is
what the SQLite run checks, the store is what each run checks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from stsvend.keystore import DEMO_KEY_FILE_TEXT
from tests.cli.conftest import Cli, Outcome

DEMO_DRN = "01234567897"
#: A newcomer's shell: none of the harness's utility settings.
NEWCOMER = {"STSVEND_UTILITY_NAME": "", "STSVEND_TAX_NUMBER": "", "STSVEND_CURRENCY": "",
            "STSVEND_TIMEZONE": "", "STSVEND_NEW_PIN": ""}  # fmt: skip


def _newcomer(fresh: Cli) -> Cli:
    fresh.env.update(NEWCOMER)
    return fresh


def _run(cli: Cli, *args: str, **env: str) -> str:
    """``stsvend ARGS``: as a process of its own on SQLite, in-process on PostgreSQL."""
    return _step(cli.database_url is None, cli, *args, **env)


def _step(process: bool, cli: Cli, *args: str, **env: str) -> str:
    """``stsvend ARGS``, as a process of its own or in-process; it must succeed."""
    if process:
        proc: Outcome | subprocess.CompletedProcess[str] = cli.run_process(*args, role=None, **env)
    else:
        proc = cli.run(*args, role=None, **env)
    assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def _as(op: dict[str, str]) -> dict[str, str]:
    return {"STSVEND_OPERATOR": op["name"], "STSVEND_PIN": op["pin"]}


def _demo(cli: Cli) -> dict[str, dict[str, str]]:
    """The demo, as the README's quick start runs it; then its --json for the PINs."""
    text = _run(cli, "demo")
    for needed in ("TEST", "Receipt 1", "demo-clerk", "demo-auditor", "Next, try",
                   f"stsvend vend {DEMO_DRN} 20.00 --operator demo-clerk",
                   "stsvend log verify --operator demo-auditor", "demo-meter.toml"):  # fmt: skip
        assert needed in text, (needed, text)
    doc = json.loads(_run(cli, "demo", "--json"))
    ops = {o["role"]: o for o in doc["operators"]}
    for op in ops.values():
        assert op["pin"] in text  # the PINs the text showed are the ones --json gives
    return ops


def test_a_utility_developer_embeds_the_library_then_sets_up_a_real_store(
    fresh: Cli, tmp_path: Path
) -> None:
    cli = _newcomer(fresh)
    _demo(cli)
    # The library, as the README's first python example uses it.
    code = (
        "from datetime import UTC, datetime\n"
        "from stsvend import sts\n"
        "meter = sts.MeterIdentity.parse('600727', '01234567897')\n"
        "data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)\n"
        "key = sts.derive_decoder_key(bytes.fromhex('abababababababab'), meter, data)\n"
        "tid = sts.tid_at(datetime(2026, 5, 1, 9, 30, tzinfo=UTC), data.base_date)\n"
        "token = sts.credit_token(key, sts.Resource.ELECTRICITY, 250, tid=tid, rnd=7)\n"
        "print(token, sts.decode_token(token, key).fields['tid'] == tid)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    token, same = proc.stdout.split()
    assert len(token) == 20 and token.isdigit() and same == "True"
    # Their real task: a store of their own, for their utility, selling.
    # (A SQLite store of its own beside the demo, on either backend's run.)
    own = Cli(tmp_path / "city-power", None, dict(NEWCOMER))
    process = fresh.database_url is None
    init = own.run_process if process else own.run
    refused = init("init", "--admin", "ada", role=None, STSVEND_PIN="482915")
    assert refused.returncode == 3 and "--utility-name" in refused.stderr
    _step(process, own, "init", "--admin", "ada", "--utility-name", "City Power",
          "--tax-number", "VAT-4012345678", "--currency", "ZAR", "--timezone",
          "Africa/Johannesburg", STSVEND_PIN="482915")  # fmt: skip
    keys = tmp_path / "keys.toml"
    keys.write_text(DEMO_KEY_FILE_TEXT, encoding="utf-8")
    ada = {"STSVEND_OPERATOR": "ada", "STSVEND_PIN": "482915"}
    for args in (("keys", "import", str(keys)), ("supply-groups", "add", "123456"),
                 ("tariffs", "add", "HOME", "--name", "Home", "--price", "2.00", "--tax", "15"),
                 ("meters", "add", DEMO_DRN, "--sgc", "123456"),
                 ("customers", "open-account", "--customer", "C-1", "--contract", "K-1",
                  "--meter", DEMO_DRN, "--tariff", "HOME"),
                 ("operators", "add", "ben", "--role", "clerk")):  # fmt: skip
        _step(process, own, *args, STSVEND_NEW_PIN="736251", **ada)
    ben = {"STSVEND_OPERATOR": "ben", "STSVEND_PIN": "736251"}
    # Ben chooses a PIN at his first login.
    _step(process, own, "shift", "start", STSVEND_NEW_PIN="845162", **ben)
    receipt = _step(process, own, "vend", DEMO_DRN, "50.00", **{**ben, "STSVEND_PIN": "845162"})
    assert "City Power" in receipt and "VAT-4012345678" in receipt
    assert "Demo Utility" not in receipt and "TAX-000000" not in receipt


def test_a_clerk_sells_at_the_counter(fresh: Cli) -> None:
    cli = _newcomer(fresh)
    clerk = _as(_demo(cli)["clerk"])
    assert "shift" in _run(cli, "shift", "status", **clerk)
    assert DEMO_DRN in _run(cli, "meters", "show", DEMO_DRN, **clerk)
    receipt = _run(cli, "vend", DEMO_DRN, "20.00", **clerk)
    assert "TEST" in receipt and "Receipt 3" in receipt and "Demo Utility" in receipt
    copy = _run(cli, "reprint", "3", **clerk)
    assert "COPY" in copy
    totals = json.loads(_run(cli, "shift", "end", "--json", **clerk))
    assert totals["operator"] == "demo-clerk" and totals["totals"]


def test_a_tester_sees_what_the_meter_does_with_a_sold_token(fresh: Cli, tmp_path: Path) -> None:
    cli = _newcomer(fresh)
    clerk = _as(_demo(cli)["clerk"])
    sale: dict[str, Any] = json.loads(_run(cli, "vend", DEMO_DRN, "20.00", "--json", **clerk))
    token = sale["tokens"][-1]["digits"]
    key = tmp_path / "vk.hex"
    key.write_text("abababababababab", encoding="ascii")
    # A table of the fields, then the same as JSON: the amount in kWh and the TID's time.
    table = _run(cli, "token", "decode", token, "--key-file", str(key), "--drn", DEMO_DRN,
                 "--sgc", "123456", "--ti", "1", "--krn", "1")  # fmt: skip
    assert "transfer_amount" in table and "tid" in table
    one: dict[str, Any] = json.loads(_run(
        cli, "token", "decode", token, "--key-file", str(key), "--drn", DEMO_DRN, "--sgc",
        "123456", "--ti", "1", "--krn", "1", "--base-date", "2014", "--json"))  # fmt: skip
    sold = sale["tokens"][-1]
    assert one["fields"]["tid"] == sold["tid"] and one["amount"]["unit"] == "kWh"
    assert one["fields"]["transfer_amount"] == sold["amount"]
    assert one["tid_at"]["2014"].startswith(sale["at"][:10])
    line = json.dumps({"id": "sold", "token": token, "ea": "07", "key": {
        "dkga": "02", "vending_key": "abababababababab", "drn": DEMO_DRN, "key_type": 2,
        "sgc": 123456, "ti": 1, "krn": 1}})  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "stsvend_cli", "token", "decode", "--jsonl"],
        input=line + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    decoded = json.loads(proc.stdout)
    assert (decoded["id"], decoded["token_class"], decoded["subclass"]) == ("sold", 0, 0)
    # The demo meter, as the demo left it, in the keypad simulator's script mode.
    proc = subprocess.run(
        [sys.executable, "-m", "stsvend_keypad", "script", str(cli.data_dir / "demo-meter.toml")],
        input=f"{token}\nREAD\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout.splitlines()[0])
    assert first["result"]["accepted"] is True, first
    again = subprocess.run(
        [sys.executable, "-m", "stsvend_keypad", "script", str(cli.data_dir / "demo-meter.toml")],
        input=f"{token}\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert json.loads(again.stdout)["result"]["name"] == "used"


def test_an_auditor_verifies_the_demo_log_and_asks_who_sold(fresh: Cli) -> None:
    cli = _newcomer(fresh)
    ops = _demo(cli)
    auditor = _as(ops["auditor"])
    assert ops["auditor"]["name"] == "demo-auditor"
    report = json.loads(_run(cli, "log", "verify", "--json", **auditor))
    assert report["ok"] is True and report["findings"] == [] and report["sales"] >= 2
    assert "no finding" in _run(cli, "log", "verify", **auditor)
    export = _run(cli, "log", "export", "--format", "jsonl", "--by-operator", "demo-supervisor",
                  **auditor)  # fmt: skip
    rows = [json.loads(line) for line in export.splitlines() if line.strip()]
    assert rows and all(r["meter"] == DEMO_DRN for r in rows if "meter" in r)
    # Who logged in, exported and verified: the operation log, filtered by action.
    ops_log: dict[str, Any] = json.loads(_run(
        cli, "log", "operations", "--action", "log", "--json", **auditor))  # fmt: skip
    actions = {(op["operator"], op["action"]) for op in ops_log["operations"]}
    assert ("demo-auditor", "log.verify") in actions
    assert ("demo-auditor", "log.export") in actions
