"""The ``serial`` meter transport: the keypad line protocol over a pyserial port.

The port is any pyserial URL: a device (``/dev/ttyUSB0``), a pty (``/dev/pts/N``), or
``socket://host:port`` (a meter behind a serial-to-network server).  The exchange is protocol
version 1 of ``docs/keypad-simulator.md``: each request gets one JSON answer line.  A ``READ``
before any token names the meter, which must be the sale's (its hello is not relied on: opening
a port throws away what arrived before); then each ``TOKEN <digits>``, ``READ`` for the
registers, ``BYE``.

Settings (``[adapters.meter.serial]``, optional): ``baudrate`` (9600).

>>> class Wire:  # an in-memory stand-in for a port: the meter's lines, then silence
...     def __init__(self, lines): self.inbox, self.sent = b"".join(lines), b""
...     def read(self, size=1):
...         chunk, self.inbox = self.inbox[:size], self.inbox[size:]
...         return chunk
...     def write(self, data): self.sent += data
...     def flush(self): pass
...     def close(self): pass
>>> took = b'{"ok":true,"command":"token","result":{"code":1,"name":"accept",' \\
...        b'"accepted":true,"message":"+5.0 kWh"}}\\r\\n'
>>> read = b'{"ok":true,"command":"read","meter":{"registers":{"electricity":{"value":50}}}}\\r\\n'
>>> who = b'{"ok":true,"command":"read","meter":{"drn":"01000000017"}}\\r\\n'
>>> wire = Wire([who, took, read, b'{"ok":true,"command":"bye","bye":true}\\r\\n'])
>>> out = Link(wire, "test", 1.0).exchange("01000000017", [("credit", "1" * 20)])
>>> out.delivered, out.registers["electricity"]["value"], wire.sent.split(b"\\r\\n")[:2]
(True, 50, [b'READ', b'TOKEN 11111111111111111111'])
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from stsvend.adapters.meter import MeterDelivery, TokenAnswer, TokensNotDelivered

__all__ = ["PROTOCOL_VERSION", "Link", "SerialTransport"]

PROTOCOL_VERSION = 1
#: The longest answer line taken (a full READ view is a few kilobytes).
MAX_ANSWER = 64 * 1024


class Port(Protocol):
    """The part of ``serial.Serial`` the link uses."""

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class Link:
    """One session with a meter on an open port; every wait bounded by ``timeout`` seconds."""

    def __init__(self, port: Port, name: str, timeout: float) -> None:
        self.port, self.name, self.timeout = port, name, timeout
        self.buffer = b""

    def _fail(self, why: str) -> TokensNotDelivered:
        return TokensNotDelivered(f"the meter on {self.name} {why}")

    def receive(self, waiting_for: str) -> dict[str, Any]:
        """The next answer line as JSON (a timeout, a closed link or garbage is an error)."""
        import serial

        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buffer:
            if time.monotonic() > deadline:
                raise self._fail(f"did not answer {waiting_for} within {self.timeout:g} s")
            if len(self.buffer) > MAX_ANSWER:
                raise self._fail(f"sent an answer longer than {MAX_ANSWER} bytes")
            try:
                # A byte, then what is waiting: a read of more than has come would lose what
                # it got if the link closes meanwhile (pyserial's socket:// does).
                self.buffer += self.port.read(1)
                waiting = getattr(self.port, "in_waiting", 0)
                if waiting and b"\n" not in self.buffer:
                    self.buffer += self.port.read(min(waiting, 4096))
            except (serial.SerialException, OSError) as exc:
                if b"\n" in self.buffer:
                    break
                raise self._fail(f"closed the link ({exc})") from None
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            answer = json.loads(line.rstrip(b"\r").decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise self._fail(f"answered {waiting_for} with a line that is not JSON") from None
        if not isinstance(answer, dict):
            raise self._fail(f"answered {waiting_for} with a line that is not an object")
        return answer

    def send(self, line: str) -> None:
        import serial

        try:
            self.port.write(line.encode("ascii") + b"\r\n")
            self.port.flush()
        except (serial.SerialException, OSError) as exc:
            raise self._fail(f"closed the link ({exc})") from None

    def ask(self, line: str, command: str) -> dict[str, Any]:
        """Send one request and take its answer.

        A hello on the way means the meter has just opened its port, which throws away what
        was waiting: a ``READ`` is sent again (a token never is; its answer is awaited).  An
        answer that echoes another request is the second answer of a ``READ`` sent twice, and
        is passed over.
        """
        self.send(line)
        while True:
            answer = self.receive(command)
            if "hello" in answer:
                if answer.get("protocol") != PROTOCOL_VERSION:
                    raise self._fail(f"speaks protocol {answer.get('protocol')!r}, not "
                                     f"{PROTOCOL_VERSION}")  # fmt: skip
                if command == "read":
                    self.send(line)
                continue
            if "input" in answer and answer["input"] != line[:80]:
                continue
            break
        if answer.get("command") != command:
            raise self._fail(f"answered {command} with {answer.get('command')!r}")
        if answer.get("ok") is not True:
            error = answer.get("error") or {}
            raise self._fail(f"refused {command}: {error.get('message', 'no reason given')}")
        return answer

    def exchange(self, drn: str, tokens: Sequence[tuple[str, str]]) -> MeterDelivery:
        """READ (which meter is it?), each token until one is refused, READ, BYE."""
        found = (self.ask("READ", "read").get("meter") or {}).get("drn")
        if found != drn:
            raise self._fail(f"is meter {found}, not {drn}: nothing was entered")
        answers = []
        for label, digits in tokens:
            result = self.ask(f"TOKEN {digits}", "token").get("result") or {}
            answers.append(TokenAnswer(
                label, int(result.get("code", 0)), str(result.get("name", "")),
                result.get("accepted") is True, str(result.get("message", "")),
            ))  # fmt: skip
            if not answers[-1].accepted:
                break
        registers = (self.ask("READ", "read").get("meter") or {}).get("registers") or {}
        # Everything is in and read: a meter that hangs up at once is no failure.
        with contextlib.suppress(TokensNotDelivered):
            self.ask("BYE", "bye")
        return MeterDelivery(drn, tuple(answers), registers, len(tokens) - len(answers))


class SerialTransport:
    """``--deliver PORT``: tokens into a meter over a serial line (pyserial URL)."""

    description = "tokens into a meter over a serial line or socket:// (keypad line protocol)"
    settings_required: tuple[str, ...] = ()

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.baudrate = int(settings.get("baudrate", 9600))

    def deliver(
        self, port: str, drn: str, tokens: Sequence[tuple[str, str]], *, timeout: float
    ) -> MeterDelivery:
        import serial

        try:
            opened = serial.serial_for_url(port, baudrate=self.baudrate, timeout=0.1,
                                           write_timeout=timeout)  # fmt: skip
        except (serial.SerialException, ValueError, OSError) as exc:
            raise TokensNotDelivered(f"cannot open {port}: {exc}") from None
        try:
            return Link(opened, port, timeout).exchange(drn, tokens)
        finally:
            opened.close()
