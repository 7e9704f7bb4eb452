"""One DLMS/COSEM association over TCP: gurux-dlms's client on a socket this module manages.

gurux builds and parses the frames; the bytes go over a plain TCP socket with a timeout on
every send and receive, in the WRAPPER framing (IEC 62056-47: version 1, source and
destination wrapper ports, the length, then the APDU).  Logical name referencing, client
address 16 (public client) or 17 with a LOW password, server address 1.

>>> OBIS["relay"]
'0.0.96.3.10.255'
>>> header = bytes([0, 1, 0, 1, 0, 16, 0, 3])
>>> _length(header)
3
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from typing import Any

from stsvend.errors import StsError

__all__ = [
    "NOT_INSTALLED", "OBIS", "DlmsError", "DlmsLost", "DlmsSession", "DlmsTimeout", "read_frame",
]  # fmt: skip

#: The objects stsvend uses, by logical name.
OBIS = {
    "energy": "1.0.1.8.0.255",  # active energy import (+A), total, class 3
    "clock": "0.0.1.0.0.255",  # class 8
    "serial": "0.0.96.1.0.255",  # device ID 1, the meter number, class 1
    "relay": "0.0.96.3.10.255",  # disconnect control, class 70
}
_HEADER = 8
NOT_INSTALLED = "DLMS needs gurux-dlms (GPL-2.0): pip install 'stsvend[dlms]' (docs/dlms.md)"


class DlmsError(StsError):
    """The meter cannot be reached, or it refused or garbled an answer."""

    code = "adapter"
    default_message = "the meter did not answer as DLMS/COSEM"


class DlmsTimeout(DlmsError):
    """The meter did not answer in time (worth another try)."""


class DlmsLost(DlmsError):
    """No connection, or the meter closed it (worth another try)."""


def _said(exc: Exception) -> str:
    return " ".join(str(exc).split())  # gurux's messages run over lines


def _length(header: bytes) -> int:
    return int.from_bytes(header[6:8], "big")


def _recv(conn: socket.socket, size: int) -> bytes | None:
    got = bytearray()
    while len(got) < size:
        chunk = conn.recv(size - len(got))
        if not chunk:
            return None
        got += chunk
    return bytes(got)


def read_frame(conn: socket.socket, timeout: float | None) -> bytes | None:
    """One WRAPPER frame (header and APDU), or None when the peer closed the connection."""
    conn.settimeout(timeout)
    try:
        header = _recv(conn, _HEADER)
        if header is None:
            return None
        if header[:2] != b"\x00\x01":
            raise DlmsError("the answer is not a DLMS WRAPPER frame")
        body = _recv(conn, _length(header))
    except ConnectionResetError:
        return None
    return None if body is None else header + body


class DlmsSession:
    """An association with one meter; use as a context manager (released and closed at the
    end).  Every wait is bounded by ``timeout`` seconds."""

    def __init__(self, host: str, port: int, *, timeout: float = 5.0,
                 password: str | None = None) -> None:  # fmt: skip
        try:
            from gurux_dlms import GXDLMSClient
            from gurux_dlms.enums import Authentication, InterfaceType
        except ImportError:
            raise DlmsError(NOT_INSTALLED) from None

        self.where, self.timeout = f"{host}:{port}", timeout
        auth = Authentication.NONE if password is None else Authentication.LOW
        self.client = GXDLMSClient(True, 16 if password is None else 17, 1, auth,
                                   password, InterfaceType.WRAPPER)  # fmt: skip
        try:
            self.conn = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise DlmsTimeout(f"the meter at {self.where} did not accept a connection in "
                              f"{timeout:g} s") from None  # fmt: skip
        except OSError as exc:
            raise DlmsLost(f"cannot connect to the meter at {self.where}: "
                            f"{exc.strerror or exc}") from None  # fmt: skip
        try:
            reply = self._exchange(self.client.aarqRequest())
            self.client.parseAareResponse(reply.data)
        except DlmsError:
            self.conn.close()
            raise
        except Exception as exc:  # gurux raises its own exceptions for a refused association
            self.conn.close()
            raise DlmsError(f"the meter at {self.where} refused the association: "
                            f"{_said(exc)}") from None  # fmt: skip

    def __enter__(self) -> DlmsSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exchange(self, frames: Any) -> Any:
        from gurux_dlms import GXReplyData

        reply = GXReplyData()
        for frame in frames if isinstance(frames, list) else [frames]:
            try:
                self.conn.sendall(bytes(frame))
                answer = read_frame(self.conn, self.timeout)
            except TimeoutError:
                raise DlmsTimeout(f"the meter at {self.where} did not answer in "
                                  f"{self.timeout:g} s") from None  # fmt: skip
            except OSError as exc:
                raise DlmsLost(f"the connection to the meter at {self.where} failed: "
                                f"{exc.strerror or exc}") from None  # fmt: skip
            if answer is None:
                raise DlmsLost(f"the meter at {self.where} closed the connection")
            reply = GXReplyData()
            try:
                self.client.getData(answer, reply, None)
            except Exception as exc:  # gurux: a malformed frame or an error answer
                raise DlmsError(f"the meter at {self.where} answered an error: "
                                f"{_said(exc)}") from None  # fmt: skip
            if reply.error:
                raise DlmsError(f"the meter at {self.where} answered error {reply.error}")
        return reply

    def read(self, obj: Any, attribute: int) -> Any:
        """Read attribute ``attribute`` of a gurux object and set it on the object."""
        reply = self._exchange(self.client.read(obj, attribute))
        self.client.updateValue(obj, attribute, reply.value)
        return obj.getValues()[attribute - 1]

    def energy_wh(self) -> int:
        """The active energy register in whole Wh (its scaler and unit read too)."""
        from gurux_dlms.enums import Unit
        from gurux_dlms.objects import GXDLMSRegister

        reg = GXDLMSRegister(OBIS["energy"])
        self.read(reg, 3)  # scaler and unit first: gurux then scales the value it reads
        value = self.read(reg, 2)
        if int(reg.unit) != Unit.ACTIVE_ENERGY or isinstance(value, bool) or \
                not isinstance(value, int | float):  # fmt: skip
            raise DlmsError(f"the meter at {self.where} does not report its energy register "
                            "in Wh")  # fmt: skip
        return round(value)

    def clock(self) -> datetime:
        """The meter's clock, in UTC."""
        from gurux_dlms.objects import GXDLMSClock

        clock = GXDLMSClock(OBIS["clock"])
        self.read(clock, 2)
        at = clock.time.value
        if not isinstance(at, datetime):
            raise DlmsError(f"the meter at {self.where} does not report its clock as a time")
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        return at.astimezone(UTC)

    def serial(self) -> str:
        """The meter number the meter reports."""
        from gurux_dlms.objects import GXDLMSData

        data = GXDLMSData(OBIS["serial"])
        value = self.read(data, 2)
        return value.decode("ascii", "replace") if isinstance(value, bytes | bytearray) \
            else str(value)

    def relay(self) -> tuple[int, bool, int]:
        """The disconnect control's control_state, output_state and control_mode."""
        from gurux_dlms.objects import GXDLMSDisconnectControl

        obj = GXDLMSDisconnectControl(OBIS["relay"])
        for attribute in (2, 3, 4):
            self.read(obj, attribute)
        return int(obj.controlState), bool(obj.outputState), int(obj.controlMode)

    def invoke(self, method: int) -> None:
        """Invoke remote_disconnect (1) or remote_reconnect (2) of the disconnect control."""
        from gurux_dlms.enums import DataType
        from gurux_dlms.objects import GXDLMSDisconnectControl

        obj = GXDLMSDisconnectControl(OBIS["relay"])
        self._exchange(self.client.method(obj, method, 0, DataType.INT8))

    def close(self) -> None:
        """Release the association (best effort) and close the socket."""
        try:
            self.conn.settimeout(min(self.timeout, 1.0))
            self.conn.sendall(bytes(self.client.releaseRequest()[0]))
            read_frame(self.conn, min(self.timeout, 1.0))
        except Exception:  # the meter may already be gone: closing is all that is left
            pass
        self.conn.close()
