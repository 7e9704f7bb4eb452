"""The ``workorders`` worker part: intake, routing, applying, results, credit transfers.

Entry point ``workorders`` of group ``stsvend.workers``; ``stsvend workorders run`` runs the same
part on its own (``--once`` for cron).  Settings, ``[adapters.worker.workorders]``:

* ``drop``, ``working``, ``done``, ``rejected``, ``results``: the folders (required);
* ``max_bytes``: the largest file taken (default 10 MiB);
* ``interval_seconds``: the wait after a round that found nothing (default 5);
* ``retry_base_seconds``, ``retry_max_seconds``, ``max_attempts``: the outbox's backoff
  (defaults 2, 300, 10).

Each round: take the dropped files in, deliver the due routed orders (through each order type's
route adapter, ``stsvend.workorder_routes``), apply the due completions, write the due results,
and issue the credit transfers whose new meter has confirmed its key change.

>>> factory.settings_required
('drop', 'working', 'done', 'rejected', 'results')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stsvend.adapters import registry
from stsvend.adapters.workorders.folders import FOLDERS, Folders, intake_round, write_result
from stsvend.adapters.workorders.xmlfile import DEFAULT_MAX_BYTES
from stsvend.errors import StsError
from stsvend.services.context import Actor, Services
from stsvend.services.workorders import (
    RetryPolicy,
    RouteTransport,
    apply_handler,
    deliver_due,
    deliver_due_credits,
    record_failure,
    route_handler,
)
from stsvend.store.repos.workorders import MessageRecord

__all__ = ["WorkOrdersPart", "factory"]


def _number(settings: Mapping[str, Any], key: str, default: float, low: float,
            high: float) -> float:  # fmt: skip
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise registry.AdapterError(
            f"[adapters.worker.workorders] {key} is a number from {low:g} to {high:g}"
        )
    return float(value)


class WorkOrdersPart:
    """One part of ``stsvend worker`` (and all of ``stsvend workorders run``)."""

    name = "workorders"

    def __init__(self, svc: Services, actor: Actor, settings: Mapping[str, Any]) -> None:
        self.svc, self.actor = svc, actor
        self.folders = Folders.from_settings(settings)
        self.max_bytes = int(_number(settings, "max_bytes", DEFAULT_MAX_BYTES, 1, 2**31))
        self.interval_seconds = _number(settings, "interval_seconds", 5, 0, 3600)
        self.policy = RetryPolicy(
            base_seconds=_number(settings, "retry_base_seconds", 2, 0, 3600),
            max_seconds=_number(settings, "retry_max_seconds", 300, 0, 86400),
            max_attempts=int(_number(settings, "max_attempts", 10, 1, 1000)),
        )  # fmt: skip
        self._transports: dict[str, RouteTransport] = {}
        self.folders.make()

    def _transport(self, name: str) -> RouteTransport:
        if name not in self._transports:
            made = registry.load("workorder", name)(
                self.svc.config.adapter_settings("workorder", name) or {}
            )
            self._transports[name] = made
        return self._transports[name]

    def _result(self, message: MessageRecord) -> None:
        doc = json.loads(message.payload)
        write_result(self.folders, str(doc["order_id"]), doc)

    def run_once(self) -> int:
        svc, actor, policy = self.svc, self.actor, self.policy
        done = intake_round(svc, actor, self.folders, max_bytes=self.max_bytes)
        done += deliver_due(svc, actor, ("route",), route_handler(svc, self._transport),
                            policy=policy).handled  # fmt: skip
        done += deliver_due(svc, actor, ("apply",), apply_handler(svc, actor),
                            policy=policy).handled  # fmt: skip
        done += deliver_due(svc, actor, ("result",), self._result, policy=policy).handled
        if actor.shift_id is not None:
            try:
                done += deliver_due_credits(svc, actor)
            except StsError as exc:
                record_failure(svc, step="credit", detail=exc.message)
        return done

    def close(self) -> None:
        for transport in self._transports.values():
            closer = getattr(transport, "close", None)
            if closer is not None:
                closer()
        self._transports.clear()


def factory(svc: Services, actor: Actor, settings: Mapping[str, Any]) -> WorkOrdersPart:
    """The part from its ``[adapters.worker.workorders]`` table."""
    return WorkOrdersPart(svc, actor, settings)


factory.description = "work orders: drop folder intake, routing, acknowledgements, results"  # type: ignore[attr-defined]
factory.settings_required = FOLDERS  # type: ignore[attr-defined]
