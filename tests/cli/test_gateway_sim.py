"""The gateway simulator on the machine's MQTT broker, as a tester runs it: its telemetry taken
in by the ``readings-mqtt`` worker part, its relays obeying requests (once per request id), a
meter that ignores commands, a gateway that goes silent, and its refusals."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import STSVEND, Cli, M
from tests.cli.test_readings_cli import BROKER, needs_broker

SIM = [sys.executable, "-c", "from stsvend.adapters.gateway_sim import _entry; _entry()"]


def _sim(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*SIM, "--host", BROKER[0], "--port", str(BROKER[1]), *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    return proc.returncode, err


class Rpc:
    """A control room's end of the gateway's RPC topic."""

    def __init__(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        name = f"rpc-{uuid.uuid4().hex[:6]}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name)
        self.client.on_message = lambda c, u, m: self._take(m.payload)
        self.client.connect(*BROKER)
        self.client.subscribe("v1/gateway/rpc", qos=1)
        self.client.loop_start()
        time.sleep(0.3)

    def _take(self, payload: bytes | bytearray) -> None:
        doc = json.loads(payload)
        if "id" in doc:  # a reply, not a request
            self.replies.put(doc)

    def ask(
        self, drn: str, request_id: int, method: str, wait: float = 5.0
    ) -> dict[str, Any] | None:
        body = {"device": drn, "data": {"id": request_id, "method": method, "params": {}}}
        self.client.publish("v1/gateway/rpc", json.dumps(body), qos=1).wait_for_publish(5)
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                reply = self.replies.get(timeout=0.1)
            except queue.Empty:
                continue
            if reply["device"] == drn and reply["id"] == request_id:
                return reply
        return None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def rpc() -> Iterator[Rpc]:
    client = Rpc()
    yield client
    client.close()


def _registers(cli: Cli, drn: str) -> list[int]:
    rows = cli.sql("SELECT r.energy_wh FROM meter_reading r JOIN meter m ON m.id = r.meter_id "
                   "WHERE m.drn = :d ORDER BY r.read_at", d=drn)  # fmt: skip
    return [int(r[0]) for r in rows]


def _wait(what: Any, deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while not what():
        assert time.monotonic() < end, "never happened"
        time.sleep(0.2)


@needs_broker
def test_telemetry_is_taken_in_and_relays_obey_once_per_request(
    cli: Cli, rpc: Rpc, tmp_path: Path
) -> None:
    config = tmp_path / "w.toml"
    session = f"stsvend-sim-{uuid.uuid4().hex[:6]}"
    config.write_text(f'[adapters.worker.readings-mqtt]\nhost = "{BROKER[0]}"\n'
                      f'port = {BROKER[1]}\nclient_id = "{session}"\n')  # fmt: skip
    worker = subprocess.Popen([*STSVEND, "worker", "--part", "readings-mqtt"],
                              env={**cli.base_env("engineer"), "STSVEND_CONFIG": str(config)},
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(2.0)
    sim = _sim("--meter", M[1], "--meter", M[2], "--meter", M[3], "--ignore-commands", M[3],
               "--interval", "0.25", "--load-w", "900000", "--start-wh", "1000")  # fmt: skip
    try:
        _wait(lambda: len(_registers(cli, M[1])) >= 3)
        first = _registers(cli, M[1])
        assert first == sorted(first) and first[-1] > first[0] >= 1000

        off = rpc.ask(M[2], 41, "relay_off")
        assert off == {"device": M[2], "id": 41,
                       "data": {"success": True, "relay": "disconnected"}}  # fmt: skip
        assert rpc.ask(M[2], 41, "relay_off") == off  # the same request: the same answer
        time.sleep(0.6)  # a reading taken before the answer may still arrive
        count = len(_registers(cli, M[2]))
        _wait(lambda: len(_registers(cli, M[2])) >= count + 3)
        standing = _registers(cli, M[2])[count:]
        assert len(set(standing)) == 1  # disconnected: the register stands still
        state = rpc.ask(M[2], 42, "relay_state")
        assert state is not None and state["data"]["relay"] == "disconnected"
        on = rpc.ask(M[2], 43, "relay_on")
        assert on is not None and on["data"] == {"success": True, "relay": "connected"}
        bad = rpc.ask(M[2], 44, "explode")
        assert bad is not None and bad["data"]["success"] is False
        assert rpc.ask(M[3], 45, "relay_off", wait=2.0) is None  # it ignores commands
        assert rpc.ask("01999999990", 46, "relay_off", wait=1.0) is None  # not its meter
        flagged = cli.sql("SELECT count(*) FROM meter_reading WHERE flag IS NOT NULL")
        assert flagged[0][0] == 0
    finally:
        code, err = _stop(sim)
        worker.send_signal(signal.SIGTERM)
        worker.communicate(timeout=30)
        from tests.cli.test_readings_cli import _drop_session

        _drop_session(session)
    assert code == 0 and "Traceback" not in err


@needs_broker
def test_a_silent_gateway_stops_publishing(rpc: Rpc) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    seen: list[float] = []
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"l-{uuid.uuid4().hex[:6]}")

    def heard(client: Any, userdata: Any, message: Any) -> None:
        if M[5] in message.payload.decode():
            seen.append(time.monotonic())

    listener.on_message = heard
    listener.connect(*BROKER)
    listener.subscribe("v1/gateway/telemetry", qos=1)
    listener.loop_start()
    sim = _sim("--meter", M[5], "--interval", "0.2", "--silent-after", "1.5")
    try:
        time.sleep(3.5)
        assert len(seen) >= 4
        assert seen[-1] - seen[0] < 2.5  # nothing after it fell silent
        answer = rpc.ask(M[5], 1, "relay_state")  # silent, yet it still obeys
        assert answer is not None and answer["data"]["relay"] == "connected"
    finally:
        _stop(sim)
        listener.disconnect()
        listener.loop_stop()


def test_refusals() -> None:
    unknown = subprocess.run([*SIM, "--meter", M[1], "--ignore-commands", M[2]],
                             capture_output=True, text=True, timeout=30)  # fmt: skip
    assert unknown.returncode == 2 and "--ignore-commands names meters not given" in unknown.stderr
    nowhere = subprocess.run([*SIM, "--meter", M[1], "--port", "1"], capture_output=True,
                             text=True, timeout=30)  # fmt: skip
    assert nowhere.returncode == 1 and "cannot reach the broker 127.0.0.1:1" in nowhere.stderr
    none = subprocess.run(SIM, capture_output=True, text=True, timeout=30)
    assert none.returncode == 2 and "--meter" in none.stderr
    for out in (unknown, nowhere, none):
        assert "Traceback" not in out.stderr
