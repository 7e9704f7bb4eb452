"""Relay commands to meters: who may send them, to which meters, and their record.

The command itself goes through a control adapter (``stsvend.adapters``, group ``control``),
which the caller (the CLI) holds; this service never imports one.  It checks the meter is
registered before anything is sent, and records each command in the operation log
(``meters.relay``) with its outcome: the meter's answered state, or the reason it failed.

>>> COMMANDS
('disconnect', 'reconnect', 'state')
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stsvend.services.auth import authorize
from stsvend.services.common import normalise_drn
from stsvend.services.context import Actor, Services
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import Meter
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = ["COMMANDS", "record_relay", "relay_target"]

COMMANDS = ("disconnect", "reconnect", "state")


def relay_target(svc: Services, actor: Actor, drn: str) -> str:
    """The meter's number, checked and registered, before a command is sent to it."""
    authorize(svc, actor, Action.METERS_RELAY)
    number = normalise_drn(drn)
    with svc.store.engine.connect() as conn:
        if conn.execute(select(Meter.id).where(Meter.drn == number)).first() is None:
            raise RecordNotFoundError(f"meter {number} is not registered")
    return number


def record_relay(svc: Services, actor: Actor, drn: str, command: str, *, ok: bool,
                 detail: dict[str, Any]) -> None:  # fmt: skip
    """Log a relay command sent (``ok``: the meter answered) in the operation log."""
    authorize(svc, actor, Action.METERS_RELAY)
    with svc.store.transaction() as conn:
        log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                      action=Action.METERS_RELAY.value, outcome="ok" if ok else "failed",
                      target=drn, detail={"command": command, **detail})  # fmt: skip
