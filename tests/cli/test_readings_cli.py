"""``stsvend readings`` and the ``readings-mqtt`` worker part as an engineer runs them, on SQLite
and PostgreSQL, against the machine's Mosquitto broker: a file imported twice, gateways
publishing at QoS 1, the worker killed mid-stream and started again (no reading lost, none
twice), and every refusal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import STSVEND, Cli, M, drn

#: The MQTT broker of the tests, ``host:port``: set by .ci/run, which starts Mosquitto if it
#: is not running; without it the broker tests are skipped, as PostgreSQL's are.
MQTT_ENV = "STSVEND_TEST_MQTT"
_HOST, _, _PORT = os.environ.get(MQTT_ENV, "").partition(":")
BROKER = (_HOST or "127.0.0.1", int(_PORT or 1883))
needs_broker = pytest.mark.skipif(not os.environ.get(MQTT_ENV), reason=f"{MQTT_ENV} is not set")
T0 = 1_764_547_200_000  # 2025-12-01T00:00Z in ms


def test_a_file_is_imported_once_flagged_and_listed(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "reads.csv"
    path.write_text(
        "drn,read_at,energy_kwh,status\n"
        f"{M[1]},2026-11-01T00:00Z,100.000,0\n"
        f"{M[1]},2026-11-01T01:00+02:00,100.500,4\n"  # 23:00Z the day before: placed first
        f"{M[1]},2026-11-02T00:00Z,99.000,0\n"
        f"{M[2]},yesterday,1,0\n"
        f"{drn(77)},2026-11-01T00:00Z,1,0\n"
        f"{M[2]},2026-11-01T00:00Z,1.0001,0\n"
    )  # fmt: skip
    first = cli.run("readings", "import", str(path), role="engineer")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("6 reading(s): 3 stored, 0 already stored, 0 conflicting "
                                   "(the stored one kept), 2 flagged, 3 rejected")  # fmt: skip
    assert "rejected: reads.csv: line 5: read_at is not an ISO 8601 time" in first.stderr
    assert f"rejected: reads.csv: line 6: meter {drn(77)} is not registered" in first.stderr
    assert "line 7: energy_kwh is not a number of kWh with at most 3 decimals" in first.stderr
    again = cli.json("readings", "import", str(path), role="engineer")
    assert (again["stored"], again["duplicates"]) == (0, 3)
    listed = cli.json("readings", "list", M[1], role="auditor")
    assert [(r["read_at"], r["energy_wh"], r["flag"]) for r in listed["readings"]] == [
        ("2026-10-31 23:00:00+00:00", 100_500, None),
        ("2026-11-01 00:00:00+00:00", 100_000, "backwards"),
        ("2026-11-02 00:00:00+00:00", 99_000, "backwards"),
    ]
    table = cli.ok("readings", "list", M[1], "--since", "2026-11-01T00:00Z", role="supervisor")
    assert "backwards" in table and "100,500" not in table
    assert cli.operations("readings.import")[-1][2] == {
        "received": 6, "stored": 0, "duplicates": 3, "conflicts": 0, "flagged": 0,
        "rejected": 3}  # fmt: skip


def test_refusals(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "reads.csv"
    path.write_text(f"drn,read_at,energy_wh\n{M[1]},2026-11-01T00:00Z,5\n")
    clerk = cli.run("readings", "import", str(path), role="clerk")
    assert clerk.returncode == 6 and "take in meter readings" in clerk.stderr
    assert cli.run("readings", "list", M[1], role="clerk").returncode == 6
    assert cli.run("readings", "purge", "--keep-months", "1", role="engineer").returncode == 6
    headless = tmp_path / "bad.csv"
    headless.write_text("meter,when\n1,2\n")
    bad = cli.run("readings", "import", str(headless), role="engineer")
    assert bad.returncode == 3 and "header row with drn, read_at" in bad.stderr
    missing = cli.run("readings", "import", str(tmp_path / "none.csv"), role="engineer")
    assert missing.returncode == 3 and "cannot read" in missing.stderr
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    assert "is not UTF-8" in cli.run("readings", "import", str(binary), role="engineer").stderr
    for args in (("--since", "yesterday"), ("--until", "2026-11-01T00:00"), ("--limit", "0")):
        proc = cli.run("readings", "list", M[1], *args, role="engineer")
        assert proc.returncode == 3, (args, proc.stderr)
    assert cli.run("readings", "list", "123", role="engineer").returncode == 3
    assert cli.run("readings", "purge", "--keep-months", "0", role="admin").returncode == 3
    assert cli.json("readings", "purge", "--keep-months", "600", role="admin") == {"removed": 0}


def _publish(messages: list[dict[str, Any]]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{uuid.uuid4().hex[:8]}")
    pub.connect(*BROKER)
    pub.loop_start()
    try:
        for doc in messages:
            pub.publish("v1/gateway/telemetry", json.dumps(doc), qos=1).wait_for_publish(10)
    finally:
        pub.disconnect()
        pub.loop_stop()


def _count(cli: Cli) -> int:
    return int(cli.sql("SELECT count(*) FROM meter_reading")[0][0])


@needs_broker
def test_gateway_readings_over_mqtt_survive_a_killed_worker(cli: Cli, tmp_path: Path) -> None:
    topic_id = uuid.uuid4().hex[:8]
    config = tmp_path / "worker.toml"
    config.write_text(
        "[adapters.worker.readings-mqtt]\n"
        f'host = "{BROKER[0]}"\nport = {BROKER[1]}\nclient_id = "stsvend-test-{topic_id}"\n'
        f'topic = "v1/gateway/telemetry"\nbatch_messages = 7\n'
    )  # fmt: skip
    env = {**cli.base_env("engineer"), "STSVEND_CONFIG": str(config)}

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen([*STSVEND, "worker", "--part", "readings-mqtt"], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # subscribed once the session exists
            line = proc.stderr.readline() if proc.stderr else ""
            if '"event": "started"' in line:
                time.sleep(1.0)
                return proc
        raise AssertionError("the worker did not start")

    meters = [M[i] for i in range(1, 7)]
    worker = start()
    try:
        # 60 messages, each with one reading per meter per minute (360 readings), then a
        # malformed message and one for a meter the store does not know.
        docs = [{m: [{"ts": T0 + k * 60_000, "values": {"energy_wh": 1000 + k * 10,
                                                         "voltage": 231}}] for m in meters}
                for k in range(60)]  # fmt: skip
        _publish(docs[:30])
        worker.send_signal(signal.SIGKILL)  # mid-stream: whatever it had not acknowledged...
        worker.wait()
        _publish([*docs[30:], {"bad": "shape"}, {drn(88): {"energy_wh": 5}}])
        _publish(docs[10:20])  # ...and a gateway that sends some again
        worker = start()  # ...the broker sends again, to the same persistent session
        deadline = time.monotonic() + 60
        while _count(cli) < 360 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        assert _count(cli) == 360  # none lost, none twice
        rows = cli.sql("SELECT count(*) FROM meter_reading WHERE flag IS NOT NULL")
        assert rows[0][0] == 0
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert '"event": "readings_refused"' in err and "231" not in err
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
        _drop_session(f"stsvend-test-{topic_id}")
    listed = cli.json("readings", "list", M[3], "--limit", "2", role="engineer")
    assert [r["energy_wh"] for r in listed["readings"]] == [1580, 1590]
    assert {r["source"] for r in listed["readings"]} == {"mqtt"}


def _drop_session(client_id: str) -> None:
    # A clean session with the same id ends the persistent one the test made on the broker.
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(*BROKER)
    client.disconnect()


def test_the_mqtt_part_needs_its_broker(cli: Cli, tmp_path: Path) -> None:
    listed = cli.json("adapters", "list", "--group", "worker")
    assert {a["name"]: a["status"] for a in listed["adapters"]}["readings-mqtt"] == (
        "not configured (needs: host)")  # fmt: skip
    config = tmp_path / "w.toml"
    config.write_text('[adapters.worker.readings-mqtt]\nhost = "127.0.0.1"\nport = 1\n')
    proc = cli.run("worker", "--once", "--part", "readings-mqtt", role="engineer",
                   STSVEND_CONFIG=str(config))  # fmt: skip
    assert proc.returncode == 8 and "not connected to the MQTT broker" in proc.stderr
    config.write_text('[adapters.worker.readings-mqtt]\nhost = "127.0.0.1"\nport = "x"\n')
    bad = cli.run("worker", "--once", "--part", "readings-mqtt", role="engineer",
                  STSVEND_CONFIG=str(config))  # fmt: skip
    assert bad.returncode == 3 and "port must be a whole number" in bad.stderr
