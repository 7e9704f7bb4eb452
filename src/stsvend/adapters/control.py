"""Remote disconnect and reconnect of a meter: the ``control`` adapter group's interface.

An adapter of the group (entry points ``stsvend.meter_controls``) is a factory called as
``factory(settings)`` with its ``[adapters.control.NAME]`` table, returning a
:class:`MeterControl`.  Every call answers with the meter's own state after the command, read
back from the meter, never assumed.

>>> r = ControlResult(drn="01234567897", command="disconnect", control_state=0,
...                   output_state=False, control_mode=1, attempts=1)
>>> r.state
'disconnected'
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from attrs import frozen

__all__ = ["CONTROL_STATES", "ControlResult", "MeterControl"]

#: control_state of the DLMS disconnect control (IEC 62056-6-2, class 70), by value.
CONTROL_STATES = {0: "disconnected", 1: "connected", 2: "ready_for_reconnection"}


@frozen
class ControlResult:
    """The meter's answer: its control state, whether its supply is on (output_state), its
    control mode, and the attempts it took."""

    drn: str
    command: str
    control_state: int
    output_state: bool
    control_mode: int
    attempts: int

    @property
    def state(self) -> str:
        return CONTROL_STATES.get(self.control_state, f"unknown ({self.control_state})")


@runtime_checkable
class MeterControl(Protocol):
    """Sends relay commands to meters and reads their relay's state."""

    def disconnect(self, drn: str) -> ControlResult:
        """Open the meter's supply relay (remote_disconnect)."""
        ...

    def reconnect(self, drn: str) -> ControlResult:
        """Close it, or make it ready for the customer to close (remote_reconnect)."""
        ...

    def state(self, drn: str) -> ControlResult:
        """The relay's state, with no command."""
        ...
