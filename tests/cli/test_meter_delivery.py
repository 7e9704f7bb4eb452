"""``stsvend vend … --deliver PORT`` and ``reprint … --deliver``: tokens into a simulated meter.

The keypad simulator runs as a subprocess (``stsvend-keypad serial``) on the far end of a real
link: a null-modem pair of ptys, or a socket through a small serial-to-network relay.  Accepted
tokens and the register read after them, a refused token (used: the same token again), a meter
that does not answer (the sale kept), another meter on the line, a port that does not open,
and the refusals made before anything is sold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, M
from tests.cli.meter_links import (
    NullModem,
    Relay,
    Silent,
    profile_for,
    start_simulator,
    stop,
)


@pytest.fixture
def modem() -> Iterator[NullModem]:
    made = NullModem()
    try:
        yield made
    finally:
        made.close()


def sales(cli: Cli) -> int:
    return int(cli.sql("SELECT count(*) FROM sale")[0][0])


def test_accepted_over_a_pty_with_the_registers(cli: Cli, tmp_path: Path,
                                                modem: NullModem) -> None:  # fmt: skip
    sim = start_simulator(profile_for(tmp_path, M[2]), modem.meter_end)
    try:
        out = cli.run("vend", M[2], "10", "--deliver", modem.station_end, role="clerk")
    finally:
        err = stop(sim)
    assert out.returncode == 0, (out.stdout, out.stderr, err)
    assert f"meter {M[2]}: Credit: accepted: +5.0 kWh to electricity" in out.stdout
    # The profile starts with 20.0 kWh; 10.00 at 2.00 a kWh puts 5.0 more on it.
    assert f"meter {M[2]}: register electricity: 25.0 kWh" in out.stdout
    assert "serial session ended: bye" in err


def test_accepted_over_a_socket_as_json(cli: Cli, tmp_path: Path) -> None:
    relay = Relay()
    sim = start_simulator(profile_for(tmp_path, M[2]), f"socket://127.0.0.1:{relay.meter_port}")
    try:
        doc = cli.json("vend", M[2], "12", "--deliver",
                       f"socket://127.0.0.1:{relay.station_port}", role="clerk")  # fmt: skip
    finally:
        err = stop(sim)
        relay.close()
    delivery = doc["delivery"]
    assert delivery["delivered"] is True and delivery["meter"] == M[2]
    (answer,) = delivery["answers"]
    assert (answer["code"], answer["name"], answer["accepted"]) == (1, "accept", True)
    assert delivery["registers"]["electricity"]["value"] == 200 + doc["units"] == 260
    assert doc["tokens"][0]["digits"] and "ended: bye" in err


def test_a_used_token_is_refused_and_the_sale_stands(cli: Cli, tmp_path: Path,
                                                     modem: NullModem) -> None:  # fmt: skip
    profile = profile_for(tmp_path, M[2])
    sim = start_simulator(profile, modem.meter_end)
    try:
        receipt = cli.json("vend", M[2], "10", "--deliver", modem.station_end,
                           role="clerk")["receipt"]  # fmt: skip
    finally:
        stop(sim)
    before = sales(cli)
    sim = start_simulator(profile, modem.meter_end)  # the meter keeps its TID memory
    try:
        out = cli.run("reprint", str(receipt), "--deliver", modem.station_end, role="clerk")
    finally:
        stop(sim)
    assert out.returncode == 10, (out.stdout, out.stderr)
    assert f"meter {M[2]}: Credit: REFUSED: " in out.stdout
    assert "the meter refused Credit: " in out.stderr and "(used)" in out.stderr
    assert f"The sale stands as receipt {receipt}" in out.stderr
    assert "COPY" in out.stdout and sales(cli) == before


def test_a_meter_that_does_not_answer_keeps_the_sale(cli: Cli) -> None:
    silent = Silent()
    before = sales(cli)
    try:
        out = cli.run("vend", M[2], "10", "--deliver", f"socket://127.0.0.1:{silent.port}",
                      "--deliver-timeout", "1", role="clerk")  # fmt: skip
    finally:
        silent.close()
    assert out.returncode == 10, (out.stdout, out.stderr)
    assert "did not answer read within 1 s" in out.stderr
    assert "The sale stands as receipt" in out.stderr and "reprint" in out.stderr
    assert sales(cli) == before + 1
    receipt = out.stderr.split("The sale stands as receipt ")[1].split(":")[0]
    digits = cli.json("reprint", receipt, role="clerk")["tokens"][0]["digits"]
    assert digits.replace(" ", "") in out.stdout.replace(" ", "").replace("-", "")


def test_nobody_on_the_pty(cli: Cli, modem: NullModem) -> None:
    out = cli.run("vend", M[2], "10", "--deliver", modem.station_end, "--deliver-timeout",
                  "0.5", "--json", role="clerk")  # fmt: skip
    assert out.returncode == 10
    doc = json.loads(out.stdout)
    assert doc["delivery"]["delivered"] is False
    assert doc["delivery"]["error"]["code"] == "not_delivered"
    assert "within 0.5 s" in doc["delivery"]["error"]["message"] and doc["tokens"]


def test_another_meter_on_the_line_gets_nothing(cli: Cli, tmp_path: Path,
                                                modem: NullModem) -> None:  # fmt: skip
    sim = start_simulator(profile_for(tmp_path, M[3]), modem.meter_end, idle=2)
    try:
        out = cli.run("vend", M[2], "10", "--deliver", modem.station_end, role="clerk")
    finally:
        stop(sim)  # it idles out or sees the link drop; it was never sent a token
    assert out.returncode == 10
    assert f"is meter {M[3]}, not {M[2]}: nothing was entered" in out.stderr


def test_a_port_that_does_not_open(cli: Cli, tmp_path: Path) -> None:
    silent = Silent()
    port = silent.port
    silent.close()
    out = cli.run("vend", M[2], "10", "--deliver", f"socket://127.0.0.1:{port}", role="clerk")
    assert out.returncode == 10 and "cannot open socket://127.0.0.1:" in out.stderr
    out = cli.run("vend", M[2], "10", "--deliver", str(tmp_path / "no-such-tty"), role="clerk")
    assert out.returncode == 10 and "cannot open" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--deliver-timeout", "0"), "the delivery timeout is 0.1 to 300 seconds"),
        (("--deliver-timeout", "soon"), "delivery timeout"),
        (("--deliver", " "), "--deliver names a port"),
        (("--server", "https://127.0.0.1:9"), "--deliver works with a sale made here"),
    ],
)
def test_refused_before_anything_is_sold(cli: Cli, args: tuple[str, ...], message: str) -> None:
    before = sales(cli)
    extra = () if "--deliver" in args else ("--deliver", "socket://127.0.0.1:9")
    out = cli.run("vend", M[2], "10", *args, *extra, role="clerk")
    assert out.returncode == 3, (out.stdout, out.stderr)
    assert message in out.stderr and sales(cli) == before


def test_the_transport_is_listed(cli: Cli) -> None:
    listed = json.loads(cli.ok("adapters", "list", "--group", "meter", "--json", role=None))
    assert [(a["name"], a["status"]) for a in listed["adapters"]] == [("serial", "ready")]


def test_key_change_tokens_go_in_first(cli: Cli, tmp_path: Path, modem: NullModem) -> None:
    # The base issued M4 a key change to KRN 2: its sale carries the two key change tokens,
    # then credit under the new key; the meter (on KRN 1) takes them in that order.
    sim = start_simulator(profile_for(tmp_path, M[4]), modem.meter_end)
    try:
        doc = cli.json("vend", M[4], "10", "--deliver", modem.station_end, role="clerk")
    finally:
        stop(sim)
    answers = doc["delivery"]["answers"]
    assert [a["token"] for a in answers] == [t["label"] for t in doc["tokens"]]
    assert len(answers) == 3 and all(a["accepted"] for a in answers), answers
    assert doc["delivery"]["registers"]["electricity"]["value"] == 250
