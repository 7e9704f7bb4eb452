"""The ``serial`` meter transport against meters that misbehave, over a real socket.

Each test's meter is a thread on a listening socket that says what the test scripts (a hello,
answers, garbage, silence, a hang-up); the transport connects with ``socket://``.  The
well-behaved meter (the keypad simulator) is in ``tests/cli/test_meter_delivery.py``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from stsvend.adapters.meter import MeterDelivery, TokensNotDelivered, transport
from stsvend.adapters.meter.serial_transport import MAX_ANSWER, SerialTransport
from stsvend.adapters.registry import AdapterError

DRN = "01000000024"
HELLO = {"hello": "stsvend-keypad", "protocol": 1, "drn": DRN}
TOKENS = [("Key change 1 of 2", "1" * 20), ("Key change 2 of 2", "2" * 20), ("Credit", "3" * 20)]


def line(doc: object) -> bytes:
    return json.dumps(doc).encode() + b"\r\n"


def answer(command: str, **extra: object) -> bytes:
    return line({"ok": True, "command": command, **extra})


def token(code: int, name: str, accepted: bool) -> bytes:
    result = {"code": code, "name": name, "accepted": accepted, "message": f"{name}!"}
    return answer("token", result=result)


Script = Callable[[socket.socket], None]


@pytest.fixture
def meter() -> Iterator[Callable[[Script], str]]:
    """``meter(script)`` → the ``socket://`` URL of a meter that runs ``script``."""
    servers: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(script: Script) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        server.settimeout(10)
        servers.append(server)

        def run() -> None:
            conn, _ = server.accept()
            with conn:
                script(conn)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return f"socket://127.0.0.1:{server.getsockname()[1]}"

    yield start
    for thread in threads:
        thread.join(timeout=10)
    for server in servers:
        server.close()


WHO = answer("read", meter={"drn": DRN})


def replies(*lines: bytes, hang_up: bool = False) -> Script:
    """A meter that says hello, then answers each request with the next line."""

    def script(conn: socket.socket) -> None:
        conn.sendall(line(HELLO))
        reader = conn.makefile("rb")
        for reply in lines:
            if not reader.readline():
                return
            conn.sendall(reply)
        while not hang_up and reader.readline():
            pass  # silent from now on, until the station hangs up

    return script


def deliver(url: str, timeout: float = 2.0) -> MeterDelivery:
    return SerialTransport({}).deliver(url, DRN, TOKENS, timeout=timeout)


def test_every_token_in_order_then_the_registers(meter: Callable[[Script], str]) -> None:
    registers = {"electricity": {"value": 250, "display": "25.0 kWh"}}
    url = meter(replies(WHO, token(2, "kct1", True), token(3, "kct2", True),
                        token(1, "accept", True), answer("read", meter={"registers": registers}),
                        answer("bye", bye=True)))  # fmt: skip
    out = deliver(url)
    assert out.delivered and [a.code for a in out.answers] == [2, 3, 1]
    assert out.registers == registers and out.not_sent == 0


def test_the_first_refusal_stops_the_rest(meter: Callable[[Script], str]) -> None:
    url = meter(replies(WHO, token(2, "kct1", True), token(9, "old", False),
                        answer("read", meter={"registers": {}}), answer("bye")))  # fmt: skip
    out = deliver(url)
    assert not out.delivered and out.not_sent == 1
    assert (out.answers[-1].name, out.answers[-1].accepted) == ("old", False)


def test_a_meter_that_hangs_up_after_the_read_has_still_taken_the_tokens(
    meter: Callable[[Script], str],
) -> None:
    url = meter(replies(WHO, token(1, "accept", True), token(1, "accept", True),
                        token(1, "accept", True), answer("read", meter={"registers": {}}),
                        hang_up=True))  # fmt: skip
    assert deliver(url).delivered


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ((b"hello there\r\n",), "answered read with a line that is not JSON"),
        ((b"[1, 2]\r\n",), "a line that is not an object"),
        ((line({**HELLO, "protocol": 2}),), "speaks protocol 2, not 1"),
        ((answer("read", meter={"drn": "01000000032"}),), "is meter 01000000032, not " + DRN),
        ((answer("read", meter={}),), "is meter None, not " + DRN),
        ((WHO, answer("read")), "answered token with 'read'"),
        ((WHO, line({"ok": False, "command": "token",
                     "error": {"code": "input", "message": "bad line"}})),
         "refused token: bad line"),
        ((b"x" * (MAX_ANSWER + 10),), f"longer than {MAX_ANSWER} bytes"),
    ],
)  # fmt: skip
def test_a_meter_that_misbehaves(
    meter: Callable[[Script], str], lines: tuple[bytes, ...], message: str
) -> None:
    url = meter(replies(*lines, hang_up=True))
    with pytest.raises(TokensNotDelivered, match="the meter on socket://") as caught:
        deliver(url)
    assert message in str(caught.value)


def test_a_meter_that_hangs_up_or_falls_silent(meter: Callable[[Script], str]) -> None:
    with pytest.raises(TokensNotDelivered, match="closed the link"):
        deliver(meter(replies(WHO, hang_up=True)))
    with pytest.raises(TokensNotDelivered, match=r"did not answer token within 0\.5 s"):
        deliver(meter(replies(WHO)), timeout=0.5)


def test_the_port_must_open() -> None:
    with pytest.raises(TokensNotDelivered, match="cannot open nonsense://x"):
        deliver("nonsense://x")


def test_the_registry_makes_it() -> None:
    assert isinstance(transport("serial", {"baudrate": 19200}), SerialTransport)
    with pytest.raises(AdapterError, match="no meter adapter 'irda'"):
        transport("irda", None)


def echoing(lose_first: bool) -> Script:
    """A meter that opens its port after the station's first request came (``lose_first``:
    that request is thrown away, as opening a port does) or just after (it answers it too),
    says hello, then answers every request, echoing it."""

    def script(conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        first = reader.readline().decode().strip()
        conn.sendall(line(HELLO))
        requests = [] if lose_first else [first]
        while True:
            while requests:
                request = requests.pop(0)
                if request == "READ":
                    conn.sendall(answer("read", input=request,
                                        meter={"drn": DRN, "registers": {}}))  # fmt: skip
                elif request == "BYE":
                    conn.sendall(answer("bye", input=request))
                    return
                else:
                    result = {"code": 1, "name": "accept", "accepted": True, "message": "ok"}
                    conn.sendall(answer("token", input=request, result=result))
            got = reader.readline()
            if not got:
                return
            requests.append(got.decode().strip())

    return script


@pytest.mark.parametrize("lose_first", [True, False])
def test_a_meter_that_opens_its_port_late(meter: Callable[[Script], str],
                                          lose_first: bool) -> None:  # fmt: skip
    out = deliver(meter(echoing(lose_first)))
    assert out.delivered and len(out.answers) == 3
