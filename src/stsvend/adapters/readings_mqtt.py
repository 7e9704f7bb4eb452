"""The ``readings-mqtt`` worker part: gateway telemetry from an MQTT broker into the store.

It subscribes at QoS 1 with a persistent session (MQTT 5, a fixed client id, no clean start,
the session kept a week), so the broker keeps what arrives while the worker is down, and it
acknowledges a message only after the transaction that stored its readings has committed: a
crash before that leaves the message unacknowledged and the broker sends it again, and the
second copy is a duplicate (the same meter and time), stored once.  A message that cannot
be read, or a reading that is refused, is acknowledged and logged (count and reason, never
the values): it would never read better.

Settings, ``[adapters.worker.readings-mqtt]``: ``host`` (required), ``port`` (1883),
``client_id`` (``stsvend-readings``), ``topic`` (``v1/gateway/telemetry``), ``batch_messages``
(500 a round, also the messages the broker may have in flight to it), ``gather_seconds`` (0.05:
how long a round waits for its batch to fill), ``interval_seconds`` (0.2), ``limit_wh_per_hour``
(the plausibility limit),
``username`` and ``password_env`` (the variable holding the password).

>>> ReadingsMqtt.settings_required
('host',)
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from stsvend.adapters.telemetry import parse_telemetry
from stsvend.errors import InputError
from stsvend.metering.plausibility import DEFAULT_LIMIT_WH_PER_HOUR
from stsvend.services.context import Actor, Services

__all__ = ["ReadingsMqtt"]


def _setting(settings: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = settings.get(key, default)
    if kind is float and type(value) is int:
        value = float(value)
    if type(value) is not kind:
        what = {int: "a whole number", float: "a number", str: "a string"}[kind]
        raise InputError(f"[adapters.worker.readings-mqtt] {key} must be {what}")
    return value


class ReadingsMqtt:
    """A :class:`~stsvend.adapters.worker.WorkerPart` that drains the telemetry topic."""

    description = "meter readings from gateways over MQTT (QoS 1, persistent session)"
    settings_required = ("host",)
    name = "readings-mqtt"

    def __init__(self, svc: Services, actor: Actor, settings: Mapping[str, Any]) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        self.svc, self.actor = svc, actor
        host = _setting(settings, "host", str, "")
        port = _setting(settings, "port", int, 1883)
        self.topic = _setting(settings, "topic", str, "v1/gateway/telemetry")
        self.batch_messages = _setting(settings, "batch_messages", int, 500)
        self.interval_seconds = _setting(settings, "interval_seconds", float, 0.2)
        self.limit = _setting(settings, "limit_wh_per_hour", int, DEFAULT_LIMIT_WH_PER_HOUR)
        self.gather_seconds = _setting(settings, "gather_seconds", float, 0.05)
        if not 1 <= self.batch_messages <= 100_000 or not 0.01 <= self.interval_seconds <= 3600:
            raise InputError("[adapters.worker.readings-mqtt] batch_messages is 1 to 100000 "
                             "and interval_seconds 0.01 to 3600")  # fmt: skip
        self._inbox: deque[Any] = deque()
        self._connected = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=_setting(settings, "client_id", str, "stsvend-readings"),
            protocol=MQTTProtocolVersion.MQTTv5, manual_ack=True,
        )  # fmt: skip
        username = settings.get("username")
        if username is not None:
            secret = os.environ.get(str(settings.get("password_env", "")), "")
            self.client.username_pw_set(str(username), secret or None)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        # MQTT 5: the session outlives the connection (a week), and the broker may have this
        # many messages unacknowledged in flight to us (a batch is acknowledged as a whole).
        connect = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        connect.SessionExpiryInterval = 7 * 86_400
        connect.ReceiveMaximum = min(max(self.batch_messages, 20), 65_535)
        self.client.connect_async(host, port, keepalive=30, clean_start=False,
                                  properties=connect)  # fmt: skip
        self.client.loop_start()  # the network thread; it reconnects by itself

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:  # fmt: skip
        if not reason.is_failure:
            client.subscribe(self.topic, qos=1)
            self._connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:  # fmt: skip
        self._connected.clear()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self._inbox.append(message)

    def run_once(self) -> int:
        from stsvend.services.readings import ingest

        if not self._connected.wait(timeout=2.0) and not self._inbox:
            raise ConnectionError(f"not connected to the MQTT broker ({self.topic})")
        # Gather a moment while the batch fills: fewer, larger transactions.
        deadline = time.monotonic() + self.gather_seconds
        while len(self._inbox) < self.batch_messages and time.monotonic() < deadline:
            time.sleep(0.002)
        taken: list[Any] = []
        while self._inbox and len(taken) < self.batch_messages:
            taken.append(self._inbox.popleft())
        if not taken:
            return 0
        readings, problems = [], []
        now = self.svc.now()
        for message in taken:
            got, bad = parse_telemetry(message.payload, "mqtt", now)
            readings.extend(got)
            problems.extend(bad)
        try:
            intake = ingest(self.svc, self.actor, readings, source="mqtt",
                            limit_wh_per_hour=self.limit)  # fmt: skip
        except BaseException:
            self._inbox.extendleft(reversed(taken))  # the next round takes them again
            raise
        for message in taken:  # only now: the readings are committed
            self.client.ack(message.mid, message.qos)
        refused = problems + [f"{r.ref}: {r.reason}" for r in intake.rejected]
        if refused:
            print(json.dumps({"event": "readings_refused", "part": self.name,
                              "count": len(refused), "first": refused[0]}),
                  file=sys.stderr, flush=True)  # fmt: skip
        return len(readings)

    def close(self) -> None:
        """Stop the network thread and leave the broker; what was not acknowledged, it keeps."""
        self.client.disconnect()
        self.client.loop_stop()
