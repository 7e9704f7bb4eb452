"""Acknowledgements through a real ``stsvend serve`` (SQLite and PostgreSQL), then the
completion applied by the worker: meters registered or replaced with their commissioning key
change queued, the result file for the CRM, and a replaced meter's credit issued as a token to
the new meter only after its key change is confirmed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.conftest import M
from tests.server.conftest import Served, admin_and_supervisor
from tests.workorders.support import Receiver, bulk, configure, drop, new_meter, order_xml

INSTALLER = "SHOP1/INST-1"
ENG = {"role": "engineer"}
DONE = {"installed_on": "2026-12-11"}


def ack(served: Served, order: str, event: str, terminal: str = INSTALLER,
        **fields: str) -> httpx.Response:  # fmt: skip
    return served.call("POST", f"/v1/workorders/{order}/acks", terminal=terminal,
                       json={"event": event, **fields})  # fmt: skip


def code(answer: httpx.Response) -> str:
    return str(answer.json()["code"])


@pytest.fixture(scope="module")
def installer(served: Served) -> str:
    from stsvend.services import terminals

    with admin_and_supervisor(served.cli) as (svc, admin, _):
        key = terminals.add_terminal(svc, admin, "SHOP1", "INST-1", role="installer").key
    served.keys[INSTALLER] = key
    return key


def meter(served: Served, drn: str) -> dict[str, Any]:
    doc: dict[str, Any] = served.cli.json("meters", "show", drn, role="supervisor")
    return doc


def test_acknowledge_apply_and_transfer_credit(served: Served, installer: str,
                                               tmp_path: Path) -> None:  # fmt: skip
    cli = served.cli
    folders = configure(cli, tmp_path / "wo", retry_base_seconds=0)
    with Receiver() as rx:
        for kind in ("installation", "replacement", "removal"):
            cli.ok("workorders", "route", "set", kind, "--url", rx.url, **ENG)
        drop(folders, "orders.xml", bulk("B-1", [
            order_xml("WO-A", meter=new_meter(1)),
            order_xml("WO-B", "replacement", meter=new_meter(2), old=M[2]),
            order_xml("WO-C", "removal", old=M[5]),
            order_xml("WO-D", "replacement", meter=new_meter(3), old=M[3]),
        ]))  # fmt: skip
        cli.ok("workorders", "run", "--once", **ENG)
        assert len(rx.ids()) == 4

    # Only an installer's key acknowledges, and an installer's key does nothing else.
    assert ack(served, "WO-A", "started", terminal="SHOP1/TILL-1").status_code == 403
    assert served.call("POST", "/v1/purchases", terminal=INSTALLER, json={
        "purchase_id": "p-1", "meter": M[1], "amount": "10"}).status_code == 403
    for path in ("/v1/vendor", f"/v1/meters/{M[1]}", "/v1/receipts/last", "/v1/statement"):
        refusal = served.call("GET", path, terminal=INSTALLER)
        assert refusal.status_code == 403 and "only acknowledges" in refusal.text, path
    assert served.call("POST", "/v1/workorders/WO-A/acks", terminal=None,
                       json={"event": "started"}).status_code == 401  # fmt: skip
    assert ack(served, "WO-404", "started").status_code == 404
    assert ack(served, "WO-A", "finished").status_code == 422
    assert ack(served, "bad id!", "started").status_code in (404, 422)

    first = ack(served, "WO-A", "started")
    assert first.status_code == 200, first.text
    assert first.json() == {"order_id": "WO-A", "type": "installation", "event": "started",
                            "state": "started", "replayed": False}  # fmt: skip
    assert ack(served, "WO-A", "started").json()["replayed"] is True
    assert ack(served, "WO-A", "supply-interrupted").json()["state"] == "interrupted"
    assert code(ack(served, "WO-A", "completed", **DONE)) == "input"  # no meter, no model
    assert code(ack(served, "WO-A", "completed", meter=new_meter(1), model="LG-E470",
                    installed_on="11.12.2026")) == "input"  # fmt: skip
    done = ack(served, "WO-A", "completed", meter=new_meter(1), model="LG-E470", **DONE)
    assert done.json()["state"] == "completed"
    assert ack(served, "WO-A", "completed", meter=new_meter(1), model="LG-E470",
               **DONE).json()["replayed"] is True  # fmt: skip
    other = ack(served, "WO-A", "completed", meter=new_meter(4), model="LG-E470", **DONE)
    assert other.status_code == 409 and code(other) == "workorder"
    assert code(ack(served, "WO-A", "started")) == "workorder"

    assert code(ack(served, "WO-B", "completed", meter=new_meter(2), model="LG-E470",
                    **DONE)) == "input"  # a replacement gives the old meter's credit
    for order, new, credit in (("WO-B", new_meter(2), "12.5"), ("WO-D", new_meter(3), "1.0")):
        answer = ack(served, order, "completed", meter=new, model="CONLOG-BEC23",
                     old_meter_credit=credit, removed_on="2026-12-11", **DONE)
        assert answer.status_code == 200, answer.text
        again = ack(served, order, "completed", meter=new, model="CONLOG-BEC23",
                    old_meter_credit=credit, removed_on="2026-12-11", **DONE)
        assert again.json()["replayed"] is True
    # The customers on the replaced meters hear of it, once per order and status (the
    # repeat added nothing); WO-A installs a new meter: no customer to tell.
    notices = cli.sql("SELECT o.message_id, c.customer_number FROM notice_outbox o "
                      "JOIN customer c ON c.id = o.customer_id WHERE o.kind = 'work_order' "
                      "ORDER BY o.message_id")  # fmt: skip
    owners = dict(cli.sql("SELECT m.drn, c.customer_number FROM account a JOIN meter m ON "
                          "m.id = a.meter_id JOIN customer c ON c.id = a.customer_id "
                          "WHERE m.drn IN (:b, :d)", b=M[2], d=M[3]))  # fmt: skip
    assert sorted(customer for _, customer in notices) == sorted(owners.values())
    assert all("completed" in message for message, _ in notices)
    assert ack(served, "WO-C", "completed", **DONE).status_code == 200

    # The worker applies the completions.
    cli.ok("workorders", "run", "--once", **ENG)
    assert served.cli.json("workorders", "status", role="auditor")["counts"] == {"applied": 4}
    for new in (new_meter(1), new_meter(2), new_meter(3)):
        shown = meter(served, new)
        assert shown["key_change"]["state"] == "pending", shown  # the commissioning change
    assert meter(served, M[2])["status"] == "blocked" and meter(served, M[5])["status"] == "blocked"
    [(moved,)] = cli.sql("SELECT m.drn FROM account a JOIN meter m ON m.id = a.meter_id "
                         "WHERE a.contract_number = 'K-2'")  # fmt: skip
    assert moved == new_meter(2)
    result = (folders["results"] / "WO-B.result.xml").read_text()
    assert "<credit_transfer_units>125</credit_transfer_units>" in result
    assert f"<meter>{new_meter(2)}</meter>" in result
    assert sorted(p.name for p in folders["results"].iterdir()) == [
        f"WO-{x}.result.xml" for x in "ABCD"]  # fmt: skip

    # The credit waits for the new meter's key change.
    proc = cli.run("workorders", "deliver-credit", "WO-B", **ENG)
    assert proc.returncode == 7 and "key change is pending" in proc.stderr, proc.stderr
    proc = cli.run("workorders", "deliver-credit", "WO-B", role="clerk")
    assert proc.returncode == 6 and "may not" in proc.stderr
    assert cli.run("workorders", "deliver-credit", "WO-A", **ENG).returncode == 5
    for n, new in enumerate((new_meter(2), new_meter(3))):
        tokens = served.call("POST", "/v1/key-change", terminal="SHOP1/ENG-1",
                             json={"request_id": f"kc-{n}", "meter": new})  # fmt: skip
        assert tokens.status_code == 201, tokens.text
        cli.ok("key-change", "confirm", new, **ENG)

    receipt = cli.json("workorders", "deliver-credit", "WO-B", **ENG)
    assert receipt["kind"] == "credit_transfer" and receipt["units"] == 125
    [token] = receipt["tokens"]
    assert token["purpose"] == "credit_transfer" and len(token["digits"].replace(" ", "")) == 20
    proc = cli.run("workorders", "deliver-credit", "WO-B", **ENG)
    assert proc.returncode == 7 and "issued already" in proc.stderr

    # WO-D's credit the worker issues by itself once the key change is confirmed.
    cli.ok("workorders", "run", "--once", **ENG)
    states = dict(cli.sql("SELECT new_meter, state FROM credit_transfer"))
    assert states == {new_meter(2): "issued", new_meter(3): "issued"}
    rows = [json.loads(line) for line in cli.ok(
        "log", "export", "--format", "jsonl", "--meter", new_meter(3),
        role="supervisor").splitlines()]  # fmt: skip
    assert [r["purpose"] for r in rows][-1] == "credit_transfer"
    cli.ok("log", "verify", role="auditor")
