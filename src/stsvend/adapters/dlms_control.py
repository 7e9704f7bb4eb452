"""The ``dlms`` control adapter: relay commands and register reads over DLMS/COSEM.

Each meter's address comes from the settings, ``[adapters.control.dlms]``: keys that are
meter numbers, each ``"host:port"``, and/or ``meters_file``, a CSV file with the columns
``drn`` and ``address``.  Also ``timeout_seconds`` (5), ``attempts`` (3), ``backoff_seconds``
(0.5, doubled after each failed attempt) and ``password_env`` (the variable holding a LOW
authentication password; none: no authentication).  A timeout or a lost connection is tried
again; a meter that refuses (an error answer, the wrong meter number) is not.  After the last
attempt the error is an :class:`~stsvend.adapters.registry.AdapterError` (code ``adapter``).

Before every command the meter's serial is read: a command never goes to a meter that reports
another number.

>>> addresses({"01234567897": "127.0.0.1:4059", "timeout_seconds": 2})
{'01234567897': ('127.0.0.1', 4059)}
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from attrs import frozen

from stsvend.adapters.control import ControlResult
from stsvend.adapters.dlms_wire import DlmsError, DlmsLost, DlmsSession, DlmsTimeout
from stsvend.adapters.registry import AdapterError

__all__ = ["DlmsControl", "MeterRead", "addresses"]

T = TypeVar("T")
_WHERE = "[adapters.control.dlms]"


@frozen
class MeterRead:
    """One read of a meter: its register (Wh), its clock (UTC) and the number it reports."""

    drn: str
    energy_wh: int
    read_at: datetime
    serial: str
    attempts: int


def _address(text: Any, what: str) -> tuple[str, int]:
    host, _, port = str(text).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise AdapterError(f"{_WHERE} {what}: the address is host:port")
    return host, int(port)


def addresses(settings: Mapping[str, Any]) -> dict[str, tuple[str, int]]:
    """The meters' addresses of a settings table (its meter-number keys and its meters_file)."""
    found = {k: _address(v, k) for k, v in settings.items() if k.isdigit()}
    name = settings.get("meters_file")
    if name is not None:
        try:
            with Path(str(name)).open(encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
        except (OSError, UnicodeDecodeError) as exc:
            raise AdapterError(f"{_WHERE} meters_file cannot be read: {exc}") from None
        for line, row in enumerate(rows, start=2):
            drn = (row.get("drn") or "").strip()
            if not drn.isdigit():
                raise AdapterError(f"{_WHERE} meters_file line {line}: no meter number")
            found[drn] = _address((row.get("address") or "").strip(), f"meters_file line {line}")
    return found


def _number(settings: Mapping[str, Any], key: str, default: float, low: float,
            high: float) -> float:  # fmt: skip
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise AdapterError(f"{_WHERE} {key} is a number from {low:g} to {high:g}")
    return float(value)


class DlmsControl:
    """A :class:`~stsvend.adapters.control.MeterControl` over DLMS/COSEM (and meter reads)."""

    description = "remote disconnect and reconnect, and register reads, over DLMS/COSEM (TCP)"
    settings_required = ()

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        table = dict(settings or {})
        self.meters = addresses(table)
        self.timeout = _number(table, "timeout_seconds", 5.0, 0.05, 300)
        self.attempts = int(_number(table, "attempts", 3, 1, 20))
        self.backoff = _number(table, "backoff_seconds", 0.5, 0, 60)
        variable = table.get("password_env")
        self.password = os.environ.get(str(variable)) or None if variable else None

    def _call(self, drn: str, work: Callable[[DlmsSession], T]) -> tuple[T, int]:
        if drn not in self.meters:
            raise AdapterError(f"meter {drn} has no DLMS address in {_WHERE}")
        host, port = self.meters[drn]
        last: DlmsError | None = None
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                time.sleep(self.backoff * 2 ** (attempt - 2))
            try:
                with DlmsSession(host, port, timeout=self.timeout, password=self.password) as s:
                    reported = s.serial()
                    if reported != drn:
                        raise AdapterError(f"the meter at {host}:{port} reports number "
                                           f"{reported}, not {drn}: nothing sent")  # fmt: skip
                    return work(s), attempt
            except (DlmsTimeout, DlmsLost) as exc:
                last = exc
            except DlmsError as exc:  # the meter answered: asking again changes nothing
                raise AdapterError(f"meter {drn}: {exc.message}") from None
        assert last is not None
        raise AdapterError(f"meter {drn}: no answer after {self.attempts} attempt(s): "
                           f"{last.message}")  # fmt: skip

    def _relay(self, drn: str, command: str, method: int | None) -> ControlResult:
        def work(s: DlmsSession) -> tuple[int, bool, int]:
            if method is not None:
                s.invoke(method)
            return s.relay()

        (state, output, mode), attempts = self._call(drn, work)
        return ControlResult(drn=drn, command=command, control_state=state,
                             output_state=output, control_mode=mode,
                             attempts=attempts)  # fmt: skip

    def disconnect(self, drn: str) -> ControlResult:
        return self._relay(drn, "disconnect", 1)

    def reconnect(self, drn: str) -> ControlResult:
        return self._relay(drn, "reconnect", 2)

    def state(self, drn: str) -> ControlResult:
        return self._relay(drn, "state", None)

    def read(self, drn: str) -> MeterRead:
        """The meter's energy register, clock and serial, in one association."""
        def work(s: DlmsSession) -> tuple[int, datetime]:
            return s.energy_wh(), s.clock()

        (energy, at), attempts = self._call(drn, work)
        return MeterRead(drn=drn, energy_wh=energy, read_at=at, serial=drn, attempts=attempts)
