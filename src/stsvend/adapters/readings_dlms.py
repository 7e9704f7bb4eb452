"""The ``readings-dlms`` worker part: the meters' energy registers read over DLMS, stored.

Every ``interval_seconds`` it reads each configured meter's active energy register and
clock (:class:`~stsvend.adapters.dlms_control.DlmsControl`) and stores the readings in one
batch through :func:`stsvend.services.readings.ingest` (source ``dlms``), where they are judged
like any other.  Its table ``[adapters.worker.readings-dlms]`` turns it on: it needs
``interval_seconds``.  The meters are those of that table
(meter-number keys, ``meters_file``, as for the control adapter), or else those of
``[adapters.control.dlms]``; ``timeout_seconds``, ``attempts`` and ``backoff_seconds`` likewise.
A meter that does not answer is logged (a ``readings_dlms_failed`` line with its number and the
reason) and the others are still read; a round in which no meter answered is a failure.

>>> ReadingsDlms.settings_required
('interval_seconds',)
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from stsvend.adapters.dlms_control import DlmsControl
from stsvend.adapters.registry import AdapterError
from stsvend.errors import InputError
from stsvend.metering.plausibility import DEFAULT_LIMIT_WH_PER_HOUR
from stsvend.services.context import Actor, Services

__all__ = ["ReadingsDlms"]


class ReadingsDlms:
    """A :class:`~stsvend.adapters.worker.WorkerPart` that polls meters over DLMS."""

    description = "meter readings polled from meters over DLMS/COSEM (TCP)"
    settings_required = ("interval_seconds",)
    name = "readings-dlms"

    def __init__(self, svc: Services, actor: Actor, settings: Mapping[str, Any]) -> None:
        self.svc, self.actor = svc, actor
        table = dict(settings)
        if not any(k.isdigit() for k in table) and "meters_file" not in table:
            shared = svc.config.adapter_settings("control", "dlms") or {}
            table = {**{k: v for k, v in shared.items() if k != "interval_seconds"}, **table}
        self.control = DlmsControl(table)
        interval = table.get("interval_seconds")
        if isinstance(interval, bool) or not isinstance(interval, int | float) or \
                not 0.05 <= interval <= 86_400:  # fmt: skip
            raise InputError("[adapters.worker.readings-dlms] interval_seconds is 0.05 to 86400")
        self.interval_seconds = float(interval)
        self.limit = int(table.get("limit_wh_per_hour", DEFAULT_LIMIT_WH_PER_HOUR))
        self._due = 0.0

    def run_once(self) -> int:
        from stsvend.services.readings import IncomingReading, ingest

        if time.monotonic() < self._due or not self.control.meters:
            return 0  # the runner waits interval_seconds after a round that did nothing
        self._due = time.monotonic() + self.interval_seconds
        readings, failed = [], []
        for drn in sorted(self.control.meters):
            try:
                got = self.control.read(drn)
            except AdapterError as exc:
                failed.append(drn)
                print(json.dumps({"event": "readings_dlms_failed", "part": self.name,
                                  "drn": drn, "reason": exc.message}),
                      file=sys.stderr, flush=True)  # fmt: skip
                continue
            readings.append(IncomingReading(drn=drn, read_at=got.read_at,
                                            energy_wh=got.energy_wh, ref=drn))  # fmt: skip
        if not readings:
            raise ConnectionError(f"no meter answered ({len(failed)} tried)")
        intake = ingest(self.svc, self.actor, readings, source="dlms",
                        limit_wh_per_hour=self.limit)  # fmt: skip
        if intake.rejected:
            print(json.dumps({"event": "readings_refused", "part": self.name,
                              "count": len(intake.rejected),
                              "first": f"{intake.rejected[0].ref}: {intake.rejected[0].reason}"}),
                  file=sys.stderr, flush=True)  # fmt: skip
        return len(readings)

    def close(self) -> None:
        """Nothing is held between rounds: each read is its own association."""
