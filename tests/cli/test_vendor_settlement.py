"""``stsvend vendors settlement``: one day of a vendor's float as CSV, on SQLite and PostgreSQL
(sales and a reversal advice made through the sale-point services, as the server makes them)."""

from __future__ import annotations

import csv
import io
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from stsvend_cli.exit_codes import exit_code_for
from tests.cli.conftest import Cli, M

_ZONE = ZoneInfo("Africa/Johannesburg")


def _sell_and_reverse(cli: Cli) -> None:
    from stsvend.config import load_config
    from stsvend.services import advices, auth, sale_point, terminals
    from stsvend.services.bootstrap import open_services
    from tests.cli.conftest import PINS

    env = cli.base_env(None)
    svc = open_services(load_config(env), env=env)
    try:
        admin = auth.login(svc, "admin", PINS["admin"])
        who = terminals.authenticate(svc, terminals.rotate_key(svc, admin, "SHOP1", "TILL-1").key)
        for purchase_id, meter in (("s-1", M[2]), ("s-2", M[3])):
            sale_point.purchase(svc, who, purchase_id=purchase_id, meter=meter, amount="40")
        advices.reverse(svc, who, "s-2", "the customer's SMS bounced")
    finally:
        svc.store.dispose()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_days_settlement_file(cli: Cli, tmp_path: Path) -> None:
    cli.ok("vendors", "deposit", "SHOP1", "300", "--reference", "=SUM(A1)", role="supervisor")
    _sell_and_reverse(cli)
    today = datetime.now(_ZONE).date().isoformat()
    out = tmp_path / "settle.csv"
    made = cli.run("vendors", "settlement", "shop1", "--day", today, "--out", str(out),
                   role="auditor")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = _rows(out.read_text("utf-8"))
    assert [r["record"] for r in rows][:1] == ["opening"] and rows[-1]["record"] == "closing"
    assert {r["vendor"] for r in rows} == {"SHOP1"} and {r["day"] for r in rows} == {today}
    assert rows[0]["balance"] == "0.00" and rows[-1]["balance"] == "261.00"
    lines = [(r["entry"], r["amount"], r["purchase_id"]) for r in rows if r["record"] == "line"]
    assert lines == [
        ("deposit", "300.00", ""), ("sale", "-40.00", "s-1"), ("commission", "1.00", "s-1"),
        ("sale", "-40.00", "s-2"), ("commission", "1.00", "s-2"), ("reversal", "40.00", "s-2"),
        ("commission_reversal", "-1.00", "s-2"),
    ]  # fmt: skip
    deposit = next(r for r in rows if r["entry"] == "deposit")
    assert deposit["reference"] == "'=SUM(A1)"  # never a formula in a spreadsheet
    assert deposit["at"].endswith("+02:00")  # the store's time zone
    totals = {r["entry"]: (r["amount"], r["count"]) for r in rows if r["record"] == "total"}
    assert totals == {"deposit": ("300.00", "1"), "sale": ("-80.00", "2"),
                      "commission": ("2.00", "2"), "reversal": ("40.00", "1"),
                      "commission_reversal": ("-1.00", "1")}  # fmt: skip
    assert rows[-1]["amount"] == "261.00" and rows[-1]["count"] == "7"
    assert rows[-2]["balance"] == "" and rows[1]["balance"] == "300.00"
    # The same file on standard output; the export is in the operation log.
    shown = cli.ok("vendors", "settlement", "SHOP1", "--day", today, role="supervisor")
    assert shown == out.read_text("utf-8")
    assert [d["day"] for _op, _out, d in cli.operations("vendors.settlement")] == [today, today]
    # A day with nothing: the opening is the closing.
    empty = _rows(cli.ok("vendors", "settlement", "SHOP1", "--day", "2020-01-01", role="admin"))
    assert [r["record"] for r in empty] == ["opening", *["total"] * 5, "closing"]
    assert empty[0]["balance"] == empty[-1]["balance"] == "0.00"


def test_a_settlement_refused(cli: Cli, tmp_path: Path) -> None:
    cases = [
        (["SHOP1", "--day", "2026-02-30"], "auditor", "input"),
        (["SHOP1", "--day", "today"], "auditor", "input"),
        (["NOPE", "--day", "2026-02-01"], "auditor", "not_found"),
        (["SHOP1", "--day", "2026-02-01"], "clerk", "permission"),
        (["SHOP1", "--day", "2026-02-01", "--out", str(tmp_path / "no" / "x.csv")], "auditor",
         "output_file"),
    ]  # fmt: skip
    for args, role, code in cases:
        proc = cli.run("vendors", "settlement", *args, role=role)
        assert proc.returncode == exit_code_for(code), (args, proc.returncode, proc.stderr)
        assert proc.stderr.strip() and not proc.stdout.strip(), proc.stdout
    assert not (tmp_path / "no").exists()
