"""``stsvend meters relay … --via mqtt`` as an engineer runs it, against the gateway simulator on
the machine's MQTT broker: a meter disconnected, read, reconnected; a meter that ignores
commands; a broker that is not there; every command in the operation log."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.cli.conftest import Cli, M
from tests.cli.test_gateway_sim import _sim
from tests.cli.test_readings_cli import BROKER, needs_broker


def _config(cli: Cli, tmp_path: Path, port: int = BROKER[1]) -> str:
    path = tmp_path / "control.toml"
    path.write_text(f'[adapters.control.mqtt]\nhost = "{BROKER[0]}"\nport = {port}\n'
                    "timeout_seconds = 1\nattempts = 2\n")  # fmt: skip
    return str(path)


@needs_broker
def test_a_meter_is_disconnected_read_and_reconnected_through_its_gateway(
    cli: Cli, tmp_path: Path
) -> None:
    config = _config(cli, tmp_path)
    sim = _sim("--meter", M[1], "--meter", M[2], "--ignore-commands", M[2], "--interval", "5")
    time.sleep(1.0)
    try:
        off = json.loads(cli.ok("meters", "relay", M[1], "--disconnect", "--via", "mqtt",
                                "--json", role="engineer", STSVEND_CONFIG=config))  # fmt: skip
        assert (off["state"], off["output_state"], off["attempts"]) == ("disconnected", False, 1)
        read = cli.ok("meters", "relay", M[1], "--state", "--via", "mqtt", role="engineer",
                      STSVEND_CONFIG=config)  # fmt: skip
        assert f"meter {M[1]}: disconnected, supply off" in read
        on = json.loads(cli.ok("meters", "relay", M[1], "--reconnect", "--via", "mqtt",
                               "--json", role="admin", STSVEND_CONFIG=config))  # fmt: skip
        assert on["state"] == "connected" and on["output_state"] is True
        deaf = cli.run("meters", "relay", M[2], "--disconnect", "--via", "mqtt",
                       role="engineer", STSVEND_CONFIG=config)  # fmt: skip
        assert deaf.returncode == 8
        assert f"the gateway did not answer disconnect for meter {M[2]} after 2 attempts" in (
            deaf.stderr)  # fmt: skip
    finally:
        sim.send_signal(signal.SIGINT)
        sim.communicate(timeout=20)
    logged = [(who, outcome) for who, outcome, _ in cli.operations("meters.relay")]
    assert ("engineer", "ok") in logged and ("admin", "ok") in logged
    assert ("engineer", "failed") in logged


def test_no_broker_and_no_settings(cli: Cli, tmp_path: Path) -> None:
    nowhere = cli.run("meters", "relay", M[1], "--state", "--via", "mqtt", role="engineer",
                      STSVEND_CONFIG=_config(cli, tmp_path, port=1))  # fmt: skip
    assert nowhere.returncode == 8 and "cannot reach the MQTT broker" in nowhere.stderr
    unset = cli.run("meters", "relay", M[1], "--state", "--via", "mqtt", role="engineer")
    assert unset.returncode == 8 and "[adapters.control.mqtt] needs host" in unset.stderr
    clerk = cli.run("meters", "relay", M[1], "--state", "--via", "mqtt", role="clerk")
    assert clerk.returncode == 6
