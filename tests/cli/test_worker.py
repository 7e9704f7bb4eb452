"""``stsvend worker`` as an operator runs it: one round for cron, the long-running process
with its health answer and its graceful stop, and every refusal."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.cli.conftest import STSVEND, Cli
from tests.server.conftest import free_port


def _running_job(cli: Cli) -> dict[str, Any]:
    # A job over the group's 7 meters, stopped after its first batch of 2.
    cli.ok("key-change", "group", "123456", "--krn", "2", "--request-id", "w1",
           "--batch-size", "2", "--max-batches", "1", role="engineer")  # fmt: skip
    job: dict[str, Any] = cli.json("key-change", "jobs", role="engineer")[0]
    assert job["state"] == "running" and job["done"] == 2
    return job


def test_once_works_one_batch_of_a_running_key_change_job(cli: Cli) -> None:
    job = _running_job(cli)
    out = cli.ok("worker", "--once", "--part", "keychange", role="engineer",
                 STSVEND_CONFIG=str(_config(cli, batch_size=3)))  # fmt: skip
    assert "one round of each part: 3 items handled" in out
    after = cli.json("key-change", "jobs", role="engineer")[0]
    assert after["job"] == job["job"] and after["done"] == 5 and after["state"] == "running"


def test_the_worker_finishes_the_job_answers_health_and_stops_on_sigterm(cli: Cli) -> None:
    job = _running_job(cli)
    port = free_port()
    proc = subprocess.Popen(
        [*STSVEND, "worker", "--part", "keychange", "--health-port", str(port)],
        env={**cli.base_env("engineer"), "STSVEND_CONFIG": str(_config(cli, batch_size=1))},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        health = _wait_for_health(port, lambda doc: doc["parts"]["keychange"]["handled"] >= 5)
        assert health["status"] == "ok"
        assert health["parts"]["keychange"]["failures_in_a_row"] == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            assert answer.status == 200
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
            raise AssertionError("only /health answers")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and '"event": "stopped"' in err
    # The parts that are not configured (readings-dlms, readings-mqtt) are said skipped first.
    [started] = [json.loads(x) for x in err.splitlines() if '"event": "started"' in x]
    assert started == {"event": "started", "parts": ["keychange"], "operator": "engineer"}
    done = cli.json("key-change", "jobs", role="engineer")[0]
    assert done["job"] == job["job"] and done["state"] == "done"


def test_a_part_that_keeps_failing_is_reported_and_once_exits_non_zero(cli: Cli) -> None:
    _running_job(cli)
    proc = cli.run("worker", "--once", "--part", "keychange", role="clerk")
    assert proc.returncode == 8
    assert "the worker part 'keychange' failed:" in proc.stderr
    assert '"event": "round_failed"' in proc.stderr
    port = free_port()
    live = subprocess.Popen(
        [*STSVEND, "worker", "--part", "keychange", "--health-port", str(port)],
        env={**cli.base_env("clerk"),
             "STSVEND_CONFIG": str(_config(cli, batch_size=1, interval=0.1))},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        doc = _wait_for_health(port, lambda d: d["status"] == "failing", status=503)
        assert doc["parts"]["keychange"]["failures_in_a_row"] >= 5
        assert "permission" in doc["parts"]["keychange"]["last_error"].lower()
        live.send_signal(signal.SIGINT)
        assert live.wait(timeout=30) == 0
    finally:
        if live.poll() is None:
            live.kill()
        live.communicate()


def test_the_notify_part_sends_under_the_worker(cli: Cli, tmp_path: Path) -> None:
    sent = tmp_path / "notices.txt"
    config = tmp_path / "notify.toml"
    config.write_text(f'[adapters.notify.file]\npath = "{sent}"\n')
    out = cli.ok("worker", "--once", "--part", "notify", role="supervisor",
                 STSVEND_CONFIG=str(config))  # fmt: skip
    assert "items handled" in out
    assert "--- stsvend.sale.1.file to customer C-1" in sent.read_text()


def test_without_part_every_ready_part_runs_and_the_others_are_named(cli: Cli) -> None:
    proc = cli.run("worker", "--once", role="admin")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stderr.splitlines() if x.startswith("{")]
    assert {"event": "part_skipped", "part": "readings-mqtt",
            "why": "not configured (needs: host)"} in lines  # fmt: skip
    started = next(x for x in lines if x["event"] == "started")
    assert {"keychange", "notify"} <= set(started["parts"])


def test_refusals(cli: Cli) -> None:
    unknown = cli.run("worker", "--once", "--part", "nosuch", role="engineer")
    assert unknown.returncode == 8 and "no worker adapter 'nosuch'" in unknown.stderr
    assert "keychange" in unknown.stderr
    nobody = cli.run("worker", "--once", role=None)
    assert nobody.returncode == 3 and "name the operator" in nobody.stderr
    for bad in ("0", "http", "65536"):
        proc = cli.run("worker", "--health-port", bad, role="engineer")
        assert proc.returncode == 3 and "--health-port" in proc.stderr
    wrong = cli.run("worker", "--once", role="engineer", STSVEND_PIN="000000")
    assert wrong.returncode == 6 and "wrong PIN" in wrong.stderr
    bad_setting = cli.run("worker", "--once", role="engineer",
                          STSVEND_CONFIG=str(_config(cli, batch_size=0)))  # fmt: skip
    assert bad_setting.returncode == 3 and "batch_size is 1 to 1000000" in bad_setting.stderr
    taken = free_port()
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        busy = cli.run("worker", "--health-port", str(taken), role="engineer")
    assert busy.returncode == 3 and f"--health-port {taken}" in busy.stderr


def _config(cli: Cli, *, batch_size: int, interval: float = 0.2) -> Any:
    path = cli.data_dir / "worker.toml"
    path.write_text(f"[adapters.worker.keychange]\nbatch_size = {batch_size}\n"
                    f"interval_seconds = {interval}\n")  # fmt: skip
    return path


def _wait_for_health(port: int, done: Any, *, status: int = 200) -> dict[str, Any]:
    end = time.monotonic() + 60
    last: Any = None
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                last = json.loads(answer.read())
                code = answer.status
        except urllib.error.HTTPError as exc:
            last, code = json.loads(exc.read()), exc.code
        except OSError:
            time.sleep(0.1)
            continue
        if done(last):
            assert code == status, last
            return dict(last)
        time.sleep(0.1)
    raise AssertionError(f"the worker's health never got there: {last}")
