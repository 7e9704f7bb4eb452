"""The simulator's server in this process (the same code the process runs), for what a test
can only see from inside: the action requests it refuses, its command line's errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

pytest.importorskip("gurux_dlms")

from stsvend.adapters.dlms_sim import MeterSimulator, MeterState, main
from stsvend.adapters.dlms_wire import DlmsError, DlmsSession

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DRN = "01234567897"


@pytest.fixture
def sim() -> Iterator[MeterSimulator]:
    state = MeterState(DRN, start=T0, rate=0.0, energy_wh=42, load_w=100)
    running = MeterSimulator(state).start()
    try:
        yield running
    finally:
        running.stop()


def test_reads_and_commands(sim: MeterSimulator) -> None:
    with DlmsSession(sim.host, sim.port, timeout=3) as s:
        assert (s.energy_wh(), s.clock(), s.serial()) == (42, T0, DRN)
        s.invoke(1)
        assert s.relay() == (0, False, 1)
        s.invoke(2)
        assert s.relay() == (1, True, 1)
    assert sim.address == f"127.0.0.1:{sim.port}"


def test_methods_it_does_not_have_are_refused(sim: MeterSimulator) -> None:
    from gurux_dlms.enums import DataType
    from gurux_dlms.objects import GXDLMSDisconnectControl

    with DlmsSession(sim.host, sim.port, timeout=3) as s:
        other = GXDLMSDisconnectControl("0.0.96.3.11.255")
        with pytest.raises(DlmsError, match="answered error"):
            s._exchange(s.client.method(other, 1, 0, DataType.INT8))
        relay = GXDLMSDisconnectControl("0.0.96.3.10.255")
        with pytest.raises(DlmsError, match="answered error"):
            s._exchange(s.client.method(relay, 3, 0, DataType.INT8))
        assert s.relay()[0] == 1  # nothing moved


def test_the_command_line_refuses_a_taken_port_and_a_time_without_zone(
    sim: MeterSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--port", str(sim.port), "--drn", DRN]) == 1
    assert "cannot listen on 127.0.0.1:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--port", "0", "--drn", DRN, "--start", "2026-11-01T00:00"])
    assert "needs its offset" in capsys.readouterr().err


def test_a_peer_that_is_not_a_meter() -> None:
    import socketserver
    import threading

    from stsvend.adapters.dlms_control import DlmsControl
    from stsvend.adapters.registry import AdapterError

    class Http(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.recv(1024)
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    with socketserver.TCPServer(("127.0.0.1", 0), Http) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        try:
            with pytest.raises(AdapterError, match="the answer is not a DLMS WRAPPER frame"):
                DlmsControl({DRN: f"127.0.0.1:{port}", "timeout_seconds": 2}).read(DRN)
        finally:
            server.shutdown()
