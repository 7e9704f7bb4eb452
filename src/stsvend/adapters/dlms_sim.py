"""A simulated DLMS/COSEM meter on a TCP port: what the DLMS adapter is tested against.

Built on gurux-dlms's server side (``GXDLMSServer``, logical name referencing, the WRAPPER
framing of IEC 62056-47 over TCP, no authentication or a LOW password).  Each connection gets a
server object of its own (gurux keeps one association's state per server object); they share
one :class:`MeterState`.  The meter holds:

* the active energy register ``1.0.1.8.0.255`` (class 3, scaler 0, unit Wh), which advances
  with the simulated clock at the configured load while the supply is connected;
* the clock ``0.0.1.0.0.255`` (class 8);
* the serial ``0.0.96.1.0.255`` (class 1, the STS meter number as a visible string);
* the disconnect control ``0.0.96.3.10.255`` (class 70): ``output_state``, ``control_state``
  (0 disconnected, 1 connected, 2 ready for reconnection) and ``control_mode``, with the
  methods ``remote_disconnect`` (1) and ``remote_reconnect`` (2).  gurux's Python object has
  no server-side method handler: the methods are carried out in :meth:`_Cosem.onPreAction`.

Time is injected: the simulated clock starts at ``start`` and runs at ``rate`` times real time
(0: stopped), so a test knows every value it will read.

>>> state = MeterState("01234567897", start=datetime(2026, 11, 1, tzinfo=UTC), rate=0.0,
...                    energy_wh=1000, load_w=500)
>>> state.energy_wh(), state.control_state
(1000, 1)
>>> state.command(1), state.control_state, state.output_state
(True, 0, False)
"""

from __future__ import annotations

import argparse
import signal
import socket
import socketserver
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from stsvend.adapters.dlms_wire import NOT_INSTALLED, OBIS, read_frame

__all__ = ["MeterSimulator", "MeterState", "main"]

DISCONNECTED, CONNECTED, READY = 0, 1, 2
#: The methods of the disconnect control object (interface class 70).
REMOTE_DISCONNECT, REMOTE_RECONNECT = 1, 2
_ACTION_REQUEST = 0xC3  # the xDLMS action-request APDU tag


class MeterState:
    """The meter's registers and relay, shared by its connections (thread-safe).

    ``control_mode`` 1: a remote reconnect connects at once; 2 and 4: it leaves the relay
    ready for reconnection (the customer closes it with the meter's button,
    :meth:`press_button`); 0: the relay cannot be operated remotely.
    """

    def __init__(self, drn: str, *, start: datetime, rate: float = 1.0, energy_wh: int = 0,
                 load_w: float = 1000.0, control_mode: int = 1) -> None:  # fmt: skip
        self.drn = drn
        self.rate = rate
        self.load_w = load_w
        self.control_mode = control_mode
        self.control_state = CONNECTED
        self._start, self._t0 = start, time.monotonic()
        self._energy = float(energy_wh)  # accrued up to self._since
        self._since = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The simulated clock."""
        return self._start + timedelta(seconds=(time.monotonic() - self._t0) * self.rate)

    @property
    def output_state(self) -> bool:
        return self.control_state == CONNECTED

    def _accrue(self) -> None:
        now = self.now()
        if self.output_state:
            self._energy += self.load_w * (now - self._since).total_seconds() / 3600
        self._since = now

    def energy_wh(self) -> int:
        """The register now, whole Wh."""
        with self._lock:
            self._accrue()
            return int(self._energy)

    def command(self, method: int) -> bool:
        """Carry out a remote method of the disconnect control; False: not allowed in the mode."""
        with self._lock:
            if self.control_mode == 0:
                return False
            self._accrue()
            if method == REMOTE_DISCONNECT:
                self.control_state = DISCONNECTED
            elif self.control_state == DISCONNECTED:
                self.control_state = CONNECTED if self.control_mode == 1 else READY
            elif self.control_state == READY:
                self.control_state = CONNECTED
            return True

    def press_button(self) -> None:
        """The customer's manual reconnection of a relay ready for it."""
        with self._lock:
            self._accrue()
            if self.control_state == READY:
                self.control_state = CONNECTED


def _cosem_class() -> type:
    # gurux is imported only when a simulator is built: it is an optional extra.
    from gurux_dlms import GXDLMS, GXByteBuffer, GXDateTime, GXDLMSLNParameters, GXDLMSServer
    from gurux_dlms.enums import (
        AccessMode,
        Authentication,
        Command,
        DataType,
        ErrorCode,
        InterfaceType,
        MethodAccessMode,
        ObjectType,
        SourceDiagnostic,
        Unit,
    )  # fmt: skip
    from gurux_dlms.internal._GXCommon import _GXCommon
    from gurux_dlms.objects import (
        GXDLMSAssociationLogicalName,
        GXDLMSClock,
        GXDLMSData,
        GXDLMSDisconnectControl,
        GXDLMSRegister,
    )  # fmt: skip

    class _Cosem(GXDLMSServer):  # type: ignore[misc]
        """One connection's association with the meter."""

        def __init__(self, state: MeterState, password: str | None) -> None:
            super().__init__(True, InterfaceType.WRAPPER)
            self.state, self.password = state, password
            assoc = GXDLMSAssociationLogicalName()
            if password is not None:
                assoc.authenticationMechanismName.mechanismId = Authentication.LOW
                assoc.secret = password.encode()
            self.register = GXDLMSRegister(OBIS["energy"])
            # gurux keeps the scaler as its factor: 1 is 10^0.
            self.register.scaler, self.register.unit = 1, Unit.ACTIVE_ENERGY
            self.register.setDataType(2, DataType.UINT64)
            self.clock = GXDLMSClock(OBIS["clock"])
            self.serial = GXDLMSData(OBIS["serial"])
            self.serial.value = state.drn
            self.serial.setDataType(2, DataType.STRING)
            self.relay = GXDLMSDisconnectControl(OBIS["relay"])
            for item in (assoc, self.register, self.clock, self.serial, self.relay):
                self.items.append(item)
                # gurux's initialize() appends the whole collection to an empty object list,
                # which its own type check refuses: the association's list is filled here.
                assoc.objectList.append(item)
            self.initialize()

        def isTarget(self, serverAddress: int, clientAddress: int) -> bool:
            return True

        def onValidateAuthentication(self, authentication: Any, password: Any) -> Any:
            if self.password is None:
                return SourceDiagnostic.NONE
            given = bytes(password or b"")
            if authentication == Authentication.LOW and given == self.password.encode():
                return SourceDiagnostic.NONE
            return SourceDiagnostic.AUTHENTICATION_FAILURE

        def onGetAttributeAccess(self, arg: Any) -> Any:
            return AccessMode.READ  # a meter's values are read, never written, here

        def onGetMethodAccess(self, arg: Any) -> Any:
            if arg.target is self.relay and arg.index in (REMOTE_DISCONNECT, REMOTE_RECONNECT):
                return MethodAccessMode.ACCESS
            return MethodAccessMode.NO_ACCESS

        def notifyRead(self, *args: Any) -> None:
            # gurux's get handler calls notifyRead() without the object being read (and
            # never onPreRead): every value is brought up to the meter's now, at each read.
            self.register.value = self.state.energy_wh()
            self.clock.time = GXDateTime(self.state.now().astimezone(UTC))
            self._show_relay()

        def _show_relay(self) -> None:
            self.relay.outputState = self.state.output_state
            self.relay.controlState = self.state.control_state
            self.relay.controlMode = self.state.control_mode

        def handleCommand(self, cmd: Any, data: Any, sr: Any) -> Any:
            if cmd != Command.METHOD_REQUEST:
                return super().handleCommand(cmd, data, sr)
            # gurux's method handler calls onPreAction(list(e)) on a single ValueEventArgs
            # (a TypeError), and its disconnect control has no invoke(): action requests
            # are answered here, with gurux's own PDU and WRAPPER frame builders.
            self.replyData.clear()
            data.getUInt8()  # action-request-normal
            invoke_id = data.getUInt8()
            self.settings.updateInvokeId(invoke_id)
            class_id = data.getUInt16()
            ln = bytearray(6)
            data.get(ln)
            method = data.getUInt8()
            error = ErrorCode.OK
            if not self.settings.acceptConnection():
                error = ErrorCode.READ_WRITE_DENIED  # no association yet
            elif class_id != ObjectType.DISCONNECT_CONTROL or \
                    _GXCommon.toLogicalName(ln) != OBIS["relay"]:  # fmt: skip
                error = ErrorCode.UNDEFINED_OBJECT
            elif method not in (REMOTE_DISCONNECT, REMOTE_RECONNECT):
                error = ErrorCode.READ_WRITE_DENIED
            elif not self.state.command(method):
                error = ErrorCode.READ_WRITE_DENIED  # control mode 0: no remote operation
            bb = GXByteBuffer()
            bb.setUInt8(0)  # no return parameters
            GXDLMS.getLNPdu(GXDLMSLNParameters(self.settings, invoke_id, Command.METHOD_RESPONSE,
                                               1, None, bb, error), self.replyData)  # fmt: skip
            return GXDLMS.getWrapperFrame(self.settings, cmd, self.replyData)

        def onPreRead(self, *args: Any) -> None: ...
        def onPostRead(self, *args: Any) -> None: ...
        def notifyConnected(self, *args: Any) -> None: ...
        def onPreWrite(self, args: Any) -> None: ...
        def onPostWrite(self, args: Any) -> None: ...
        def onPreAction(self, args: Any) -> None: ...
        def onPostAction(self, args: Any) -> None: ...
        def onPreGet(self, args: Any) -> None: ...
        def onPostGet(self, args: Any) -> None: ...
        def onConnected(self, info: Any) -> None: ...
        def onDisconnected(self, info: Any) -> None: ...
        def onInvalidConnection(self, info: Any) -> None: ...
        def onFindObject(self, objectType: Any, sn: Any, ln: Any) -> None:
            return None

    return _Cosem


def _reply_class() -> type:
    from gurux_dlms import GXServerReply

    class _Reply(GXServerReply):  # type: ignore[misc]
        # gurux's GXDLMSServer calls sr.setReply(), getConnectionInfo(), getCount() and
        # setCount(), which its own GXServerReply (1.0.x) does not define.
        def setReply(self, value: Any) -> None:
            self.reply = value

        def getConnectionInfo(self) -> Any:
            return self.connectionInfo

        def getCount(self) -> int:
            return int(self.count)

        def setCount(self, value: int) -> None:
            self.count = value

    return _Reply


class MeterSimulator:
    """The meter on ``host:port`` (port 0: a free one), served by threads until :meth:`stop`.

    ``fail_commands``: method invocations are read and never answered (a meter that ignores
    its relay commands); ``drop_connections``: every connection is closed as it arrives.
    """

    def __init__(self, state: MeterState, *, host: str = "127.0.0.1", port: int = 0,
                 password: str | None = None, fail_commands: bool = False,
                 drop_connections: bool = False) -> None:  # fmt: skip
        self.state = state
        cosem, reply_class = _cosem_class(), _reply_class()
        sim = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                if drop_connections:
                    return
                server = cosem(state, password)

                while not sim.stopping.is_set():
                    frame = read_frame(conn, None)
                    if frame is None:
                        return
                    if fail_commands and len(frame) > 8 and frame[8] == _ACTION_REQUEST:
                        continue  # heard, never answered
                    reply = reply_class(frame)
                    server.handleRequest(reply)
                    if reply.reply:
                        conn.sendall(bytes(reply.reply))

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # One line for a connection that went wrong; the meter serves the others.
                error = sys.exc_info()[1]
                print(f"connection from {client_address[0]} ended: {type(error).__name__}: "
                      f"{error}", file=sys.stderr, flush=True)  # fmt: skip

        self.stopping = threading.Event()
        self.server = Server((host, port), Handler)
        self.host, self.port = str(self.server.server_address[0]), self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> MeterSimulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def _time(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError("the time needs its offset (Z for UTC)")
    return at


def main(argv: list[str] | None = None) -> int:
    """``stsvend-dlms-sim``: run one simulated meter until interrupted."""
    ap = argparse.ArgumentParser(prog="stsvend-dlms-sim", description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True, help="TCP port (0: a free one)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--drn", required=True, help="the STS meter number it reports")
    ap.add_argument("--load-w", type=float, default=1000.0, help="the load, W (1000)")
    ap.add_argument("--energy-wh", type=int, default=0, help="the register at the start")
    ap.add_argument("--start", type=_time, default=None, help="the clock's start (now)")
    ap.add_argument("--rate", type=float, default=1.0,
                    help="simulated seconds per real second (0: a stopped clock)")
    ap.add_argument("--control-mode", type=int, choices=(0, 1, 2, 4), default=1)
    ap.add_argument("--password", default=None, help="LOW authentication password")
    ap.add_argument("--fail-commands", action="store_true", help="never answer relay commands")
    ap.add_argument("--drop-connections", action="store_true", help="close every connection")
    opts = ap.parse_args(argv)
    try:
        import gurux_dlms  # noqa: F401
    except ImportError:
        print(f"stsvend-dlms-sim: {NOT_INSTALLED}", file=sys.stderr)
        return 1
    state = MeterState(opts.drn, start=opts.start or datetime.now(UTC), rate=opts.rate,
                       energy_wh=opts.energy_wh, load_w=opts.load_w,
                       control_mode=opts.control_mode)  # fmt: skip
    try:
        sim = MeterSimulator(state, host=opts.host, port=opts.port, password=opts.password,
                             fail_commands=opts.fail_commands,
                             drop_connections=opts.drop_connections).start()  # fmt: skip
    except OSError as exc:
        print(f"stsvend-dlms-sim: cannot listen on {opts.host}:{opts.port}: {exc.strerror}",
              file=sys.stderr)  # fmt: skip
        return 1
    # SIGUSR1: the customer presses the meter's button (a relay ready for reconnection closes).
    signal.signal(signal.SIGUSR1, lambda *_: state.press_button())
    print(f"listening on {sim.address}", flush=True)  # a starter waits for this line
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        sim.stop()


if __name__ == "__main__":
    raise SystemExit(main())
