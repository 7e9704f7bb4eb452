"""Links to a simulated meter for the ``--deliver`` tests: real ptys and real sockets.

* :class:`NullModem`: two pty pairs whose master ends are joined by a thread, as a null-modem
  cable joins two serial ports; the simulator opens one slave, stsvend the other.
* :class:`Relay`: a serial-to-network server in miniature (what ser2net does for a meter on a
  serial line): the simulator connects to one listening socket (its ``socket://`` is a client),
  stsvend to the other with ``socket://``; bytes are copied both ways.
* :class:`Silent`: a listening socket that takes the connection and never says a word.
* :func:`start_simulator`: ``stsvend-keypad serial`` as a user runs it (a subprocess).
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
import tty
from pathlib import Path

from stsvend_keypad.profiles import SAMPLE_PROFILE

__all__ = ["NullModem", "Relay", "Silent", "profile_for", "start_simulator", "stop"]

DEADLINE = 30.0


def profile_for(folder: Path, drn: str) -> Path:
    """The sample meter profile (TEST key 123456/1, base date 2014) as meter ``drn``."""
    path = folder / f"meter-{drn}.toml"
    path.write_text(SAMPLE_PROFILE.replace('drn = "00000000000"', f'drn = "{drn}"'))
    return path


def start_simulator(profile: Path, port: str, idle: int = 20) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.Popen(
        [sys.executable, "-m", "stsvend_keypad", "serial", str(profile), "--port", port,
         "--idle-timeout", str(idle)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def stop(proc: subprocess.Popen[str]) -> str:
    """Wait for the simulator's end (killing it past the deadline); its stderr."""
    try:
        _, err = proc.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def _pump(a: int, b: int, done: threading.Event) -> None:
    while not done.is_set():
        ready, _, _ = select.select([a, b], [], [], 0.05)
        for fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                continue  # the slave side is closed for now (EIO): it may open again
            if data:
                os.write(b if fd == a else a, data)


class NullModem:
    """Two ptys joined at their master ends: ``meter_end`` and ``station_end`` are paths."""

    def __init__(self) -> None:
        self.m1, self.s1 = os.openpty()
        self.m2, self.s2 = os.openpty()
        for fd in (self.m1, self.m2, self.s1, self.s2):
            tty.setraw(fd)
        self.meter_end, self.station_end = os.ttyname(self.s1), os.ttyname(self.s2)
        self.done = threading.Event()
        self.thread = threading.Thread(target=_pump, args=(self.m1, self.m2, self.done),
                                       daemon=True)  # fmt: skip
        self.thread.start()

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)
        for fd in (self.m1, self.m2, self.s1, self.s2):
            os.close(fd)


class Relay:
    """The meter's side listens on ``meter_port``, the station's on ``station_port``."""

    def __init__(self) -> None:
        self.meter_server = socket.create_server(("127.0.0.1", 0))
        self.station_server = socket.create_server(("127.0.0.1", 0))
        self.meter_port = self.meter_server.getsockname()[1]
        self.station_port = self.station_server.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.meter_server.settimeout(DEADLINE)
        self.station_server.settimeout(DEADLINE)
        try:
            meter, _ = self.meter_server.accept()
            station, _ = self.station_server.accept()
        except OSError:
            return
        with meter, station:
            ends = {meter: station, station: meter}
            while not self.done.is_set():
                ready, _, _ = select.select(list(ends), [], [], 0.05)
                for end in ready:
                    data = end.recv(4096)
                    if not data:
                        return  # one side hung up: so does the relay, as ser2net does
                    ends[end].sendall(data)

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)
        self.meter_server.close()
        self.station_server.close()


class Silent:
    """A listening socket that accepts a connection and never answers."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]

    def close(self) -> None:
        self.server.close()
