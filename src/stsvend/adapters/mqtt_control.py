"""The ``mqtt`` control adapter: a meter's relay operated through its gateway's RPC over MQTT.

It speaks the ThingsBoard gateway convention that ``stsvend-gateway-sim`` (and a real field
gateway) obeys: a request on ``v1/gateway/rpc`` — ``{"device": "<DRN>", "data": {"id": N,
"method": "relay_off" | "relay_on" | "relay_state", "params": {}}}`` — answered on the same
topic with ``{"device": "<DRN>", "id": N, "data": {"success": true, "relay": "…"}}``.  A
command that gets no answer is sent again with the *same* request id, so a gateway that did
carry it out answers again without doing it twice; after ``attempts`` tries it fails with a
clear error.  The answer is the gateway's report of the relay, never assumed.  A gateway
reports no control mode: the result says 1 (remote disconnect and reconnect both possible).

Settings, ``[adapters.control.mqtt]``: ``host`` (required), ``port`` (1883), ``topic``
(``v1/gateway/rpc``), ``timeout_seconds`` (5), ``attempts`` (3), ``username`` and
``password_env``.

>>> MqttRpcControl.settings_required
('host',)
>>> _result("01234567897", "state", {"success": True, "relay": "disconnected"}, 1).state
'disconnected'
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from stsvend.adapters.control import ControlResult
from stsvend.adapters.registry import AdapterError

__all__ = ["MqttRpcControl"]

_METHODS = {"disconnect": "relay_off", "reconnect": "relay_on", "state": "relay_state"}
_STATES = {"disconnected": 0, "connected": 1}


def _result(drn: str, command: str, data: Mapping[str, Any], attempts: int) -> ControlResult:
    relay = data.get("relay")
    if data.get("success") is not True or relay not in _STATES:
        why = str(data.get("error") or "no relay state in its answer")[:120]
        raise AdapterError(f"the gateway refused {command} for meter {drn}: {why}")
    return ControlResult(drn=drn, command=command, control_state=_STATES[relay],
                         output_state=relay == "connected", control_mode=1,
                         attempts=attempts)  # fmt: skip


def _number(settings: Mapping[str, Any], key: str, default: float, low: float,
            high: float) -> float:  # fmt: skip
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise AdapterError(f"[adapters.control.mqtt] {key} is a number from {low:g} to {high:g}")
    return float(value)


class MqttRpcControl:
    """A :class:`~stsvend.adapters.control.MeterControl` through the gateway's RPC topic."""

    description = "relay commands through the meter's gateway (MQTT RPC, ThingsBoard convention)"
    settings_required = ("host",)

    def __init__(self, settings: Mapping[str, Any] | None) -> None:
        settings = settings or {}
        host = settings.get("host")
        if not isinstance(host, str) or not host:
            raise AdapterError("[adapters.control.mqtt] needs host (the broker)")
        self.host = host
        self.port = int(_number(settings, "port", 1883, 1, 65_535))
        self.topic = str(settings.get("topic", "v1/gateway/rpc"))
        self.timeout = _number(settings, "timeout_seconds", 5, 0.1, 600)
        self.attempts = int(_number(settings, "attempts", 3, 1, 20))
        self.username = settings.get("username")
        self.password = os.environ.get(str(settings.get("password_env", "")), "") or None

    def disconnect(self, drn: str) -> ControlResult:
        return self._ask(drn, "disconnect")

    def reconnect(self, drn: str) -> ControlResult:
        return self._ask(drn, "reconnect")

    def state(self, drn: str) -> ControlResult:
        return self._ask(drn, "state")

    def _ask(self, drn: str, command: str) -> ControlResult:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        request_id = secrets.randbelow(2**31)  # the same on every attempt of this command
        answers: queue.Queue[dict[str, Any]] = queue.Queue()
        subscribed: queue.Queue[bool] = queue.Queue()

        def on_message(client: Any, userdata: Any, message: Any) -> None:
            try:
                doc = json.loads(message.payload)
            except ValueError:
                return
            if isinstance(doc, dict) and doc.get("device") == drn and doc.get("id") == request_id:
                data = doc.get("data")
                answers.put(data if isinstance(data, dict) else {})

        client = mqtt.Client(CallbackAPIVersion.VERSION2,
                             client_id=f"stsvend-control-{uuid.uuid4().hex[:10]}")  # fmt: skip
        if self.username is not None:
            client.username_pw_set(str(self.username), self.password)
        client.on_message = on_message
        client.on_subscribe = lambda *args: subscribed.put(True)
        try:
            client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise AdapterError(f"cannot reach the MQTT broker {self.host}:{self.port}: "
                               f"{exc.strerror or exc}") from None  # fmt: skip
        client.loop_start()
        try:
            client.subscribe(self.topic, qos=1)
            try:
                subscribed.get(timeout=self.timeout)
            except queue.Empty:
                raise AdapterError(f"the MQTT broker {self.host}:{self.port} did not take "
                                   "the subscription") from None  # fmt: skip
            body = json.dumps({"device": drn, "data": {"id": request_id,
                                                       "method": _METHODS[command],
                                                       "params": {}}})  # fmt: skip
            for attempt in range(1, self.attempts + 1):
                client.publish(self.topic, body, qos=1)
                try:
                    return _result(drn, command, answers.get(timeout=self.timeout), attempt)
                except queue.Empty:
                    continue
            raise AdapterError(f"the gateway did not answer {command} for meter {drn} "
                               f"after {self.attempts} attempts")  # fmt: skip
        finally:
            client.disconnect()
            client.loop_stop()
