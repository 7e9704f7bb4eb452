"""Serial mode: the command language over a pyserial port (``docs/keypad-simulator.md``).

The port is any pyserial URL: a device (``/dev/ttyUSB0``), a pty path, ``socket://host:port``
(the simulator connects to a test rig listening there) or ``loop://``.  Requests are ASCII lines
ending in LF (a CR before it is ignored); each gets exactly one JSON line back, ending in CR LF.
On opening, the simulator sends a ``hello`` line.  It stops on ``BYE``, when the link closes, or
after ``idle_timeout`` seconds without a request.

>>> import tempfile, pathlib
>>> from stsvend_keypad.profiles import SAMPLE_PROFILE
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "m.toml").write_text(SAMPLE_PROFILE)
>>> class Wire:  # an in-memory stand-in for a serial port
...     def __init__(self, data): self.inbox, self.outbox = data, b""
...     def read(self, size=1):
...         chunk, self.inbox = self.inbox[:size], self.inbox[size:]
...         return chunk
...     def write(self, data): self.outbox += data
...     def flush(self): pass
...     def close(self): pass
>>> wire = Wire(b"PING\\r\\nBYE\\n")
>>> serve(Session.open(folder / "m.toml"), wire)
'bye'
>>> [sorted(json.loads(line))[:2] for line in wire.outbox.splitlines()]
[['drn', 'hello'], ['command', 'input'], ['bye', 'command']]
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from stsvend_keypad.commands import MAX_LINE
from stsvend_keypad.session import Session

__all__ = ["PROTOCOL_VERSION", "Port", "open_port", "serve"]

PROTOCOL_VERSION = 1


class Port(Protocol):
    """The part of ``serial.Serial`` that serial mode uses."""

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def open_port(url: str, baudrate: int = 9600) -> Port:
    """Open a pyserial port (imported here: only serial mode needs pyserial)."""
    import serial

    from stsvend.meter import MeterError

    try:
        port: Port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.2)
    except (serial.SerialException, ValueError) as err:
        raise MeterError(f"cannot open the serial port {url}: {err}") from None
    return port


def _send(port: Port, message: dict[str, Any]) -> None:
    port.write(json.dumps(message, separators=(",", ":")).encode("ascii") + b"\r\n")
    port.flush()


def serve(
    session: Session,
    port: Port,
    *,
    idle_timeout: float | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> str:
    """Answer requests on ``port`` until BYE, disconnection or idle timeout; says which."""
    import serial

    hello = {
        "hello": "stsvend-keypad",
        "protocol": PROTOCOL_VERSION,
        "drn": session.loaded.profile.identity.drn,
        "time": session.clock.now().isoformat(),
    }
    _send(port, hello)
    buffer = b""
    discarding = False
    last_request = monotonic()
    while True:
        try:
            chunk = port.read(MAX_LINE)
        except serial.SerialException:
            return "disconnected"
        if not chunk:
            session.tick()
            if idle_timeout is not None and monotonic() - last_request > idle_timeout:
                return "idle"
            continue
        last_request = monotonic()
        buffer += chunk
        while b"\n" in buffer:
            raw, buffer = buffer.split(b"\n", 1)
            if discarding:  # the rest of an overlong line
                discarding = False
                continue
            answer = session.execute(raw.rstrip(b"\r").decode("ascii", errors="replace"))
            if answer is None:
                continue
            try:
                _send(port, answer)
            except serial.SerialException:
                return "disconnected"
            if answer.get("command") == "bye":
                return "bye"
        if len(buffer) > MAX_LINE:
            buffer = b""
            discarding = True
            message = f"line longer than {MAX_LINE} bytes"
            _send(port, {"ok": False, "error": {"code": "input", "message": message}})
