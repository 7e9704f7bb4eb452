"""A simulated field gateway for tests and demos: meters' readings out, relay commands in.

It speaks the ThingsBoard gateway convention over MQTT, as the ``readings-mqtt`` worker part
and a remote-control adapter expect of a real gateway:

* every ``interval`` seconds it publishes on ``v1/gateway/telemetry`` one message with each
  meter's register (``{"<DRN>": [{"ts": <ms>, "values": {"energy_wh": …, "relay": …}}]}``); a
  connected meter's register rises with its load, a disconnected one's stands still;
* it obeys requests on ``v1/gateway/rpc`` — ``{"device": "<DRN>", "data": {"id": N,
  "method": "relay_off" | "relay_on" | "relay_state"}}`` — and answers on the same topic with
  ``{"device": "<DRN>", "id": N, "data": {"success": true, "relay": "disconnected"}}``.  A
  request id it has answered is answered again the same way, never carried out twice.

Failures for tests, per meter: ``ignores_commands`` (no answer at all), and the whole gateway
going ``silent`` (no telemetry).  :class:`SimulatedGateway` is the state, with the clock
passed in; :func:`main` (``stsvend-gateway-sim``) puts it on a broker.

>>> gw = SimulatedGateway({"01234567897": SimMeter(energy_wh=1000.0, load_w=3600.0)}, now=0.0)
>>> json.loads(gw.telemetry(now=10.0))["01234567897"][0]["values"]
{'energy_wh': 1010, 'relay': 'connected'}
>>> json.loads(gw.command(b'{"device": "01234567897", "data": {"id": 7, "method": "relay_off"}}'))
{'device': '01234567897', 'id': 7, 'data': {'success': True, 'relay': 'disconnected'}}
>>> json.loads(gw.telemetry(now=20.0))["01234567897"][0]["values"]["energy_wh"]
1010
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any

from attrs import define

__all__ = ["METHODS", "RPC_TOPIC", "TELEMETRY_TOPIC", "SimMeter", "SimulatedGateway", "main"]

TELEMETRY_TOPIC = "v1/gateway/telemetry"
RPC_TOPIC = "v1/gateway/rpc"
METHODS = ("relay_off", "relay_on", "relay_state")


@define
class SimMeter:
    """One simulated meter: its register (Wh), its load (W), its relay, its failure."""

    energy_wh: float
    load_w: float = 1000.0
    connected: bool = True
    ignores_commands: bool = False


class SimulatedGateway:
    """The gateway's meters and what it has answered; ``now`` in seconds (any epoch)."""

    def __init__(self, meters: Mapping[str, SimMeter], *, now: float) -> None:
        self.meters = dict(meters)
        self.silent = False
        self._last = now
        self._answered: dict[tuple[str, int], bytes] = {}
        self.commands_carried_out = 0

    def _advance(self, now: float) -> None:
        hours = max(0.0, now - self._last) / 3600
        for meter in self.meters.values():
            if meter.connected:
                meter.energy_wh += meter.load_w * hours
        self._last = max(now, self._last)

    def telemetry(self, *, now: float) -> bytes:
        """The telemetry message at ``now`` (registers advanced to it)."""
        self._advance(now)
        ts = int(now * 1000)
        return json.dumps({
            drn: [{"ts": ts, "values": {"energy_wh": int(m.energy_wh),
                                        "relay": "connected" if m.connected else "disconnected"}}]
            for drn, m in self.meters.items()
        }).encode()  # fmt: skip

    def command(self, payload: bytes, *, now: float | None = None) -> bytes | None:
        """The answer to one request (None: nothing to answer — not a request, an unknown
        meter, or a meter that ignores commands)."""
        try:
            doc = json.loads(payload)
            device, data = doc["device"], doc["data"]
            request_id, method = data["id"], data["method"]
        except (ValueError, KeyError, TypeError):
            return None  # a reply (ours or another's) or not a request at all
        meter = self.meters.get(device) if isinstance(device, str) else None
        if meter is None or meter.ignores_commands or type(request_id) is not int:
            return None
        key = (device, request_id)
        if key in self._answered:
            return self._answered[key]
        if now is not None:
            self._advance(now)
        answer: dict[str, Any] = {"success": method in METHODS}
        if method == "relay_off":
            meter.connected = False
        elif method == "relay_on":
            meter.connected = True
        if method in METHODS:
            self.commands_carried_out += method != "relay_state"
        else:
            answer["error"] = f"unknown method {str(method)[:40]!r}"
        answer["relay"] = "connected" if meter.connected else "disconnected"
        reply = json.dumps({"device": device, "id": request_id, "data": answer}).encode()
        self._answered[key] = reply
        return reply


def run(
    gateway: SimulatedGateway, host: str, port: int, interval: float, stop: threading.Event
) -> None:
    """Publish and obey on the broker until ``stop`` is set."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    lock = threading.Lock()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gateway-sim-{port}-{id(gateway)}")

    def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        c.subscribe(RPC_TOPIC, qos=1)

    def on_message(c: Any, userdata: Any, message: Any) -> None:
        with lock:
            reply = gateway.command(message.payload, now=time.time())
        if reply is not None:
            c.publish(RPC_TOPIC, reply, qos=1)

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        while not stop.is_set():
            with lock:
                message = None if gateway.silent else gateway.telemetry(now=time.time())
            if message is not None:
                client.publish(TELEMETRY_TOPIC, message, qos=1)
            stop.wait(interval)
    finally:
        client.disconnect()
        client.loop_stop()


def main(argv: list[str] | None = None) -> int:
    """``stsvend-gateway-sim``: a gateway with meters on an MQTT broker, until Ctrl-C."""
    import click

    @click.command()
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=1883, show_default=True, type=click.IntRange(1, 65535))
    @click.option("--meter", "meters", multiple=True, required=True, metavar="DRN",
                  help="A meter of the gateway (repeatable).")
    @click.option("--interval", default=60.0, show_default=True,
                  type=click.FloatRange(0.01, 86_400), help="Seconds between telemetry.")
    @click.option("--load-w", default=1000.0, show_default=True, type=click.FloatRange(0, 10**6))
    @click.option("--start-wh", default=0, show_default=True, type=click.IntRange(0, 2**52))
    @click.option("--ignore-commands", "deaf", multiple=True, metavar="DRN",
                  help="This meter never answers a command (repeatable).")
    @click.option("--silent-after", type=click.FloatRange(0), default=None,
                  help="Stop publishing telemetry after this many seconds (offline).")
    def command(
        host: str, port: int, meters: tuple[str, ...], interval: float, load_w: float,
        start_wh: int, deaf: tuple[str, ...], silent_after: float | None,
    ) -> None:  # fmt: skip
        unknown = set(deaf) - set(meters)
        if unknown:
            raise click.UsageError(f"--ignore-commands names meters not given: {sorted(unknown)}")
        gateway = SimulatedGateway(
            {m: SimMeter(float(start_wh), load_w, ignores_commands=m in deaf) for m in meters},
            now=time.time())  # fmt: skip
        stop = threading.Event()
        if silent_after is not None:
            def hush() -> None:
                gateway.silent = True
            threading.Timer(silent_after, hush).start()
        click.echo(f"gateway: {len(meters)} meter(s) on {host}:{port}, telemetry every "
                   f"{interval:g} s; Ctrl-C stops it", err=True)  # fmt: skip
        try:
            run(gateway, host, port, interval, stop)
        except KeyboardInterrupt:
            stop.set()
        except OSError as exc:
            raise click.ClickException(f"cannot reach the broker {host}:{port}: {exc}") from None

    try:
        command.main(args=argv, prog_name="stsvend-gateway-sim", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 130
    return 0


def _entry() -> None:
    raise SystemExit(main())
