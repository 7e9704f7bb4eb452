"""``stsvend serve`` on a fresh machine: the TEST demo sale-point server, as README shows it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import free_port

_KEY = re.compile(r"stv_[0-9a-f]{12}_[0-9a-f]{32}")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")}
    return {**env, "STSVEND_DATA_DIR": str(data_dir)}


def _start(data_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    """The server as a user starts it; returns it, its address and the key it printed."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stsvend_cli", "serve", "--port", str(port)],
        env=_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    printed = []
    for line in proc.stdout:
        printed.append(line)
        if "curl" in line:
            break
    found = _KEY.search("".join(printed))
    if found is None:
        proc.kill()
        pytest.fail(f"no key printed: {printed} {proc.communicate()[1]}")
    base = f"http://127.0.0.1:{port}"
    assert f"curl -s -X POST {base}/v1/purchases" in printed[-1]
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                return proc, base, found.group(0)
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err


def test_a_fresh_machine_serves_the_test_demo_and_sells(tmp_path: Path) -> None:
    data = tmp_path / "stsvend"
    proc, base, key = _start(data)
    try:
        bought = httpx.post(f"{base}/v1/purchases", headers={"Authorization": f"Bearer {key}"},
                            json={"purchase_id": "try-1", "meter": "01234567897",
                                  "amount": "20.00"}, timeout=30)  # fmt: skip
        assert bought.status_code == 201, bought.text
        doc = bought.json()
        assert doc["test"] is True and doc["key_change_first"] is True
        assert doc["sale_point"]["vendor"] == "DEMO"
    finally:
        _stop(proc)
    # Started again: the same store, a new key; the old one no longer opens anything.
    proc, base, again = _start(data)
    try:
        assert again != key
        old = httpx.get(f"{base}/v1/vendor", headers={"Authorization": f"Bearer {key}"})
        assert old.status_code == 401
        mine = httpx.get(f"{base}/v1/vendor", headers={"Authorization": f"Bearer {again}"})
        assert mine.status_code == 200 and mine.json()["test"] is True
        replay = httpx.get(f"{base}/v1/purchases/try-1",
                           headers={"Authorization": f"Bearer {again}"})  # fmt: skip
        assert replay.json()["tokens"] == doc["tokens"]
    finally:
        _stop(proc)
    # The demo itself still runs on the store the server made (its terminal is not a person).
    demo = subprocess.run([sys.executable, "-m", "stsvend_cli", "demo", "--json"],
                          env=_env(data), capture_output=True, text=True, timeout=120)  # fmt: skip
    assert demo.returncode == 0, demo.stderr
