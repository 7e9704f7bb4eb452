"""Gateway telemetry in the ThingsBoard gateway convention, read into readings.

A gateway publishes on ``v1/gateway/telemetry`` one JSON object: each key a device (here the
meter number), each value a list of ``{"ts": <ms since 1970>, "values": {...}}`` (or one such
object, or the bare values, stamped with the time received).  The values stsvend reads:
``energy_wh`` (whole Wh) or ``energy_kwh`` (kWh, at most three decimals), and optionally
``interval_wh`` and ``status``; others (voltage, temperature, …) are left alone.

>>> readings, problems = parse_telemetry(
...     b'{"01234567897": [{"ts": 1764547200000, "values": {"energy_kwh": 12.5}}]}', "gw1")
>>> readings[0].drn, readings[0].energy_wh, readings[0].read_at.isoformat(), problems
('01234567897', 12500, '2025-12-01T00:00:00+00:00', [])
>>> parse_telemetry(b'not json', "gw1")[1]
['gw1: the message is not a JSON object']
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from stsvend.services.readings import IncomingReading

__all__ = ["parse_telemetry"]

#: A message larger than this is refused unread (a gateway batches, but not without limit).
MAX_MESSAGE = 4 * 1024 * 1024


def _energy(values: dict[str, Any]) -> int:
    if "energy_wh" in values:
        value = values["energy_wh"]
        if type(value) is not int:
            raise ValueError("energy_wh is not a whole number")
        return value
    value = values.get("energy_kwh")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("no energy_wh or energy_kwh")
    try:
        kwh = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("energy_kwh is not a number") from None
    if not kwh.is_finite() or (kwh * 1000) % 1:
        raise ValueError("energy_kwh has more than 3 decimals")
    return int(kwh * 1000)


def _optional(values: dict[str, Any], name: str) -> int | None:
    value = values.get(name)
    if value is not None and type(value) is not int:
        raise ValueError(f"{name} is not a whole number")
    return value


def _entry(device: str, entry: Any, received: datetime) -> IncomingReading:
    if not isinstance(entry, dict):
        raise ValueError("an entry is not an object")
    if "values" in entry:
        values, ts = entry["values"], entry.get("ts")
        if not isinstance(values, dict):
            raise ValueError("values is not an object")
        if type(ts) is not int or not 0 <= ts < 2**53:
            raise ValueError("ts is not a time in milliseconds")
        read_at = datetime.fromtimestamp(ts / 1000, UTC)
    else:
        values, read_at = entry, received
    return IncomingReading(device, read_at, _energy(values), _optional(values, "interval_wh"),
                           _optional(values, "status") or 0, ref=device)  # fmt: skip


def parse_telemetry(
    payload: bytes, gateway: str, received: datetime | None = None
) -> tuple[list[IncomingReading], list[str]]:
    """The readings of one telemetry message, and what in it could not be read (by device;
    never the values themselves)."""
    received = received or datetime.now(UTC)
    if len(payload) > MAX_MESSAGE:
        return [], [f"{gateway}: the message is over {MAX_MESSAGE} bytes"]
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict):
        return [], [f"{gateway}: the message is not a JSON object"]
    readings: list[IncomingReading] = []
    problems: list[str] = []
    for device, entries in doc.items():
        for entry in entries if isinstance(entries, list) else [entries]:
            try:
                readings.append(_entry(device, entry, received))
            except ValueError as exc:
                problems.append(f"{gateway}: device {device[:40]!r}: {exc}")
    return readings, problems
