"""The real program, as a process of its own: a sale, a refusal with its exit code, a usage
error; and the demo on each database through the in-process runner.  (Every other CLI test runs
in-process; these keep the entry point, the process's own environment and exit status honest.)
"""

from __future__ import annotations

import re

from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import Cli, M


def test_a_sale_as_a_process(cli: Cli) -> None:
    proc = cli.run_process("vend", M[2], "100", role="clerk")
    assert proc.returncode == 0, proc.stderr
    assert "Receipt 3" in proc.stdout and "Units: 50.0 kWh" in proc.stdout
    assert len(re.findall(r"\b\d{4} \d{4} \d{4} \d{4} \d{4}\b", proc.stdout)) == 1
    assert proc.stderr == ""


def test_a_refusal_as_a_process(cli: Cli) -> None:
    proc = cli.run_process("vend", M[3], "10", role="auditor")
    assert proc.returncode == exit_code_for("permission") == 6
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "an auditor may not vend credit" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_usage_error_as_a_process(cli: Cli) -> None:
    proc = cli.run_process("vend", "--no-such-option", role="clerk")
    assert proc.returncode == 2 and "No such option" in proc.stderr


def test_the_demo_on_each_database(fresh: Cli) -> None:
    # The demo store keeps the demo utility's identity, which the harness's would contradict.
    fresh.env.update(STSVEND_CURRENCY="USD", STSVEND_TIMEZONE="UTC",
                     STSVEND_UTILITY_NAME="Demo Utility", STSVEND_TAX_NUMBER="TAX-000000")
    first = fresh.json("demo", role=None)
    assert first["test"] is True and first["key_change_confirmed"] is True
    assert [a["accepted"] for a in first["meter"]["answers"]] == [True, True, True]
    again = fresh.json("demo", role=None)
    assert again["created"] == [] and again["receipt"]["receipt"] == 2
