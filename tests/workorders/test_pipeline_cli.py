"""The work-order pipeline end to end through ``stsvend workorders``, on SQLite and
PostgreSQL: files in real folders, orders routed to a real local HTTP server, retries with
backoff, a restart that loses nothing, a bad file rejected with its reason and nothing of it
applied."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.cli.conftest import STSVEND, Cli, M
from tests.workorders.support import (
    Receiver,
    bulk,
    configure,
    drop,
    new_meter,
    order_xml,
    single,
)

ENG = {"role": "engineer"}


def run_once(cli: Cli) -> int:
    return int(cli.json("workorders", "run", "--once", **ENG)["handled"])


def status(cli: Cli) -> dict[str, Any]:
    doc: dict[str, Any] = cli.json("workorders", "status", role="auditor")
    return doc


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/orders"


def test_intake_split_route_and_reject(cli: Cli, tmp_path: Path) -> None:
    folders = configure(cli, tmp_path / "wo", retry_base_seconds=0)
    with Receiver() as rx:
        for kind in ("installation", "replacement"):
            cli.ok("workorders", "route", "set", kind, "--url", rx.url, **ENG)
        good = bulk("B-1", [order_xml(f"WO-{i}", meter=new_meter(i)) for i in range(1, 4)]
                    + [order_xml("WO-R", "replacement", meter=new_meter(9), old=M[2])])
        drop(folders, "bulk-1.xml", good)
        drop(folders, "single.xml", single("WO-S", meter=new_meter(5)))
        bad_digit = new_meter(6)[:-1] + str((int(new_meter(6)[-1]) + 1) % 10)
        # One bad order spoils its whole file: WO-10 is not taken either.
        drop(folders, "bad.xml", bulk("B-2", [order_xml("WO-10", meter=new_meter(10)),
                                              order_xml("WO-11", meter=bad_digit)]))
        (folders["drop"] / "notes.txt").write_text("not an order")
        assert run_once(cli) >= 3
        expected = {f"{o}/v1/route" for o in ("WO-1", "WO-2", "WO-3", "WO-R", "WO-S")}
        assert set(rx.ids()) == expected and len(rx.ids()) == 5
        body = dict(rx.received)["WO-R/v1/route"]
        assert body["header"]["correlation_id"] == "WO-R"
        assert body["header"]["verb"] == "create" and body["header"]["noun"] == "WorkOrder"
        assert body["payload"]["old_meter"] == M[2] and body["payload"]["bulk_id"] == "B-1"

        assert sorted(p.name for p in folders["done"].iterdir()) == ["bulk-1.xml", "single.xml"]
        assert sorted(p.name for p in folders["rejected"].iterdir()) == ["bad.xml",
                                                                         "bad.xml.reason"]
        reason = (folders["rejected"] / "bad.xml.reason").read_text()
        assert "WO-11" in reason and "check digit" in reason
        assert [p.name for p in folders["drop"].iterdir()] == ["notes.txt"]
        assert list(folders["working"].iterdir()) == []

        doc = status(cli)
        assert doc["counts"] == {"routed": 5}
        assert {o["order_id"] for o in doc["orders"]} == {"WO-1", "WO-2", "WO-3", "WO-R", "WO-S"}
        [failure] = doc["failures"]
        assert failure["step"] == "validate" and failure["source_file"] == "bad.xml"
        text = cli.ok("workorders", "status", role="supervisor")
        assert "routed 5" in text and "bad.xml" in text

        # The same file again changes nothing and routes nothing; a changed order is routed
        # again as version 2.
        drop(folders, "bulk-1.xml", good)
        drop(folders, "change.xml", single("WO-1", meter=new_meter(1), day="2026-12-24"))
        run_once(cli)
        assert len(rx.ids()) == 6 and rx.ids()[-1] == "WO-1/v2/route"
        assert dict(rx.received)["WO-1/v2/route"]["header"]["verb"] == "change"
        assert sorted(p.name for p in folders["done"].iterdir()) == [
            "bulk-1.xml", "bulk-1.xml.1", "change.xml", "single.xml"]  # fmt: skip

        # A type change is refused: the file is rejected and the order stays as it was.
        drop(folders, "retype.xml", single("WO-2", "removal", old=new_meter(2)))
        run_once(cli)
        why = (folders["rejected"] / "retype.xml.reason").read_text()
        assert "its type does not change" in why
        assert len(rx.ids()) == 6


def test_no_route_rule_is_a_failure_with_its_step(cli: Cli, tmp_path: Path) -> None:
    folders = configure(cli, tmp_path / "wo", retry_base_seconds=60)
    drop(folders, "a.xml", single("WO-1", meter=new_meter(1)))
    run_once(cli)
    [failure] = status(cli)["failures"]
    assert failure["step"] == "route" and failure["state"] == "retrying"
    assert "no route for installation orders" in failure["detail"] and failure["attempts"] == 1


def test_failures_are_retried_with_backoff_and_a_restart_loses_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    folders = configure(cli, tmp_path / "wo", retry_base_seconds=1.5, retry_max_seconds=1.5,
                        http_timeout=0.5)  # fmt: skip
    # The installer's system is down: the attempt fails, the order waits in the outbox.
    cli.ok("workorders", "route", "set", "installation", "--url", closed_port_url(), **ENG)
    drop(folders, "a.xml", single("WO-1", meter=new_meter(1)))
    run_once(cli)
    [failure] = status(cli)["failures"]
    assert failure["state"] == "retrying" and "ConnectError" in failure["detail"]
    assert run_once(cli) == 0  # the backoff: not due yet

    # It comes back but answers 500 once, then times out once: each is retried later, by a
    # new process each time (a restart), until it is delivered once.
    with Receiver(fail=1) as rx:
        cli.ok("workorders", "route", "set", "installation", "--url", rx.url, **ENG)
        deadline = time.monotonic() + 30
        while not rx.received and time.monotonic() < deadline:
            time.sleep(0.5)
            run_once(cli)
        assert rx.ids() == ["WO-1/v1/route"] and rx.calls == 2
    assert status(cli)["counts"] == {"routed": 1}
    rows = cli.sql("SELECT attempts, state, last_error FROM workorder_outbox")
    assert rows == [(3, "delivered", f"{rx.url} answered 500")]


def test_a_timeout_is_a_failed_attempt_and_the_last_one_gives_up(
    cli: Cli, tmp_path: Path
) -> None:
    folders = configure(cli, tmp_path / "wo", retry_base_seconds=0, max_attempts=2,
                        http_timeout=0.3)  # fmt: skip
    with Receiver(delay=1.0) as rx:
        cli.ok("workorders", "route", "set", "installation", "--url", rx.url, **ENG)
        drop(folders, "a.xml", single("WO-1", meter=new_meter(1)))
        run_once(cli)
        assert rx.calls == 2
    failures = status(cli)["failures"]
    assert {(f["step"], f["state"]) for f in failures} == {("route", "failed")}
    assert any("no answer within 0.3 s" in f["detail"] for f in failures)
    assert any("given up after 2 attempts" in f["detail"] for f in failures)
    assert status(cli)["counts"] == {"received": 1}


def test_routes_and_their_refusals(cli: Cli, tmp_path: Path) -> None:
    cli.ok("workorders", "route", "set", "removal", "--url", "https://inst.example/wo", **ENG)
    assert cli.json("workorders", "route", "list", role="auditor")["routes"] == [
        {"order_type": "removal", "adapter": "http-json", "url": "https://inst.example/wo"}]
    for args, code in [
        (("repair", "--url", "https://inst.example/"), 7),
        (("removal", "--url", "ftp://inst.example/"), 3),
        (("removal", "--url", "https://inst.example/", "--adapter", "No Such"), 3),
    ]:
        proc = cli.run("workorders", "route", "set", *args, **ENG)
        assert proc.returncode == code, proc.stderr
    proc = cli.run("workorders", "route", "set", "removal", "--url", "https://x.example/",
                   role="clerk")  # fmt: skip
    assert proc.returncode == 6 and "may not" in proc.stderr


def test_run_needs_its_folders_configured(cli: Cli) -> None:
    proc = cli.run("workorders", "run", "--once", **ENG)
    assert proc.returncode == 8 and "[adapters.worker.workorders]" in proc.stderr


def test_run_as_a_long_running_process_stops_on_sigterm(cli: Cli, tmp_path: Path) -> None:
    folders = configure(cli, tmp_path / "wo", retry_base_seconds=0, interval_seconds=0.2)
    with Receiver() as rx:
        cli.ok("workorders", "route", "set", "installation", "--url", rx.url, **ENG)
        proc = subprocess.Popen([*STSVEND, "workorders", "run"], env=cli.base_env("engineer"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for n in range(1, 4):  # files dropped while it runs are taken at its next round
                drop(folders, f"f{n}.xml", single(f"WO-{n}", meter=new_meter(n)))
                deadline = time.monotonic() + 30
                while len(rx.received) < n and time.monotonic() < deadline:
                    time.sleep(0.1)
            assert sorted(rx.ids()) == ["WO-1/v1/route", "WO-2/v1/route", "WO-3/v1/route"]
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err


def test_an_installer_is_never_an_operator(cli: Cli) -> None:
    proc = cli.run("operators", "add", "fitter", "--role", "installer", STSVEND_NEW_PIN="736251")
    assert proc.returncode == 3 and "terminals add" in proc.stderr, proc.stderr
    made = cli.json("terminals", "add", "SHOP1", "INST-1", "--role", "installer")
    assert made["role"] == "installer" and made["key"].startswith("stv_")
