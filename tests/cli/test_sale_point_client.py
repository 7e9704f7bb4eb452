"""``stsvend.client`` and ``stsvend vend --server`` against a real ``stsvend serve`` process on
loopback, on SQLite and PostgreSQL: purchases, replays, fetch, advices, refusals, TLS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.client import Purchase, SalePointClient, ServerRefused
from tests.cli.conftest import Cli, M
from tests.cli.test_serve import _pki, _serving

Served = tuple[str, Cli, str]


@pytest.fixture
def served(cli: Cli) -> Iterator[Served]:
    """A server on the test installation, SHOP1's float at 250.00, TILL-1's fresh key."""
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    cli.ok("vendors", "deposit", "SHOP1", "250", "--reference", "B-9", role="supervisor")
    with _serving(cli) as base:
        yield base, cli, key


def _client(served: Served, tmp_path: Path) -> SalePointClient:
    base, _cli, key = served
    return SalePointClient(base, key, outbox=tmp_path / "outbox.sqlite3")


def test_a_purchase_its_replay_and_its_fetch(served: Served, tmp_path: Path) -> None:
    with _client(served, tmp_path) as api:
        bought = api.purchase(M[2], "50.00", purchase_id="till-1-0001")
        again = api.purchase(M[2], "50.00", purchase_id="till-1-0001")
        fetched = api.fetch("till-1-0001")
        float_now = api.vendor()["float"]
    assert isinstance(bought, Purchase) and bought.replayed is False
    assert bought.purchase_id == "till-1-0001" and bought.receipt.kind == "credit"
    assert bought.units and bought.units > 0 and bought.tokens[0].digits
    assert (bought.vendor, bought.terminal, bought.tender) == ("SHOP1", "SHOP1/TILL-1", "cash")
    assert bought.commission == 125  # 2.5 % of 50.00
    assert bought.float_left == 25_000 - 5_000 + 125 == float_now
    for repeat in (again, fetched):
        assert repeat.replayed is True and repeat.number == bought.number
        assert [t.digits for t in repeat.tokens] == [t.digits for t in bought.tokens]


def test_the_same_id_for_another_purchase_is_refused(served: Served, tmp_path: Path) -> None:
    with _client(served, tmp_path) as api:
        api.purchase(M[2], "50.00", purchase_id="till-1-0002")
        with pytest.raises(ServerRefused) as caught:
            api.purchase(M[2], "60.00", purchase_id="till-1-0002")
    assert (caught.value.code, caught.value.status) == ("idempotency_mismatch", 409)


def test_confirm_and_reverse_through_the_outbox(served: Served, tmp_path: Path) -> None:
    with _client(served, tmp_path) as api:
        float_before = api.vendor()["float"]
        delivered = api.purchase(M[2], "10.00")
        confirmed = api.confirm(delivered.purchase_id)
        bought = api.purchase(M[3], "40.00")
        reversed_ = api.reverse(bought.purchase_id, "customer paid twice")
        assert api.reverse(bought.purchase_id, "customer paid twice").state == reversed_.state
        # The first advice stands: a confirmed purchase is not reversed afterwards.
        with pytest.raises(ServerRefused) as late:
            api.reverse(delivered.purchase_id, "changed my mind")
        float_now = api.vendor()["float"]
        with pytest.raises(ServerRefused) as caught:
            api.confirm("never-sold")
        states = [(e.purchase_id, e.advice, e.state, e.code) for e in api.advices()]
    assert confirmed.state == "confirmed"
    assert (reversed_.state, reversed_.refund) == ("reversed", 4_000)
    assert (late.value.code, late.value.status) == ("reversal", 409)
    # Only the confirmed sale is still taken from the float (less its commission).
    assert float_now == float_before - 1_000 + (delivered.commission or 0)
    assert (caught.value.code, caught.value.status) == ("not_found", 404)
    assert states == [
        (delivered.purchase_id, "confirmation", "done", None),
        (bought.purchase_id, "reversal", "done", None),
        (delivered.purchase_id, "reversal", "failed", "reversal"),
        ("never-sold", "confirmation", "failed", "not_found"),
    ]


def test_insufficient_funds_is_a_402_refusal(served: Served, tmp_path: Path) -> None:
    with _client(served, tmp_path) as api, pytest.raises(ServerRefused) as caught:
        api.purchase(M[2], "300.00")
    assert (caught.value.code, caught.value.status) == ("insufficient_funds", 402)


def test_a_wrong_key_is_a_401_refusal(served: Served) -> None:
    base, _cli, _key = served
    with SalePointClient(base, "stv_000000000000_" + "0" * 32) as api, \
            pytest.raises(ServerRefused) as caught:  # fmt: skip
        api.vendor()
    assert (caught.value.code, caught.value.status) == ("unauthenticated", 401)


def test_vend_with_server_prints_the_local_receipt(served: Served) -> None:
    base, cli, key = served
    sold = cli.run("vend", M[2], "50.00", "--server", base, "--request-id", "till-1-0003",
                   role=None, STSVEND_TERMINAL_KEY=key)  # fmt: skip
    assert sold.returncode == 0, sold.stderr
    assert "SALE" in sold.stdout and "Corner shop" not in sold.stderr
    doc = json.loads(cli.ok("vend", M[2], "50.00", "--server", base, "--request-id",
                            "till-1-0003", "--json", role=None,
                            STSVEND_TERMINAL_KEY=key))  # fmt: skip
    assert doc["replayed"] is True and doc["request_id"] == "till-1-0003"
    digits = doc["tokens"][-1]["digits"]
    assert " ".join(digits[i:i + 4] for i in range(0, 20, 4)) in sold.stdout
    poor = cli.run("vend", M[2], "900.00", "--server", base, role=None,
                   STSVEND_TERMINAL_KEY=key)  # fmt: skip
    assert poor.returncode == 7 and "insufficient_funds" in poor.stderr
    bad = cli.run("vend", M[2], "5.00", "--server", base, role=None,
                  STSVEND_TERMINAL_KEY="stv_000000000000_" + "0" * 32)  # fmt: skip
    assert bad.returncode == 6 and "unauthenticated" in bad.stderr


def test_the_client_over_mutual_tls(cli: Cli, tmp_path: Path) -> None:
    pki = _pki(tmp_path)
    key = cli.json("terminals", "rotate", "SHOP1", "TILL-1", role="admin")["key"]
    tls = {"STSVEND_TLS_CERT": pki["server.pem"], "STSVEND_TLS_KEY": pki["server.key"],
           "STSVEND_TLS_CLIENT_CA": pki["ca.pem"]}  # fmt: skip
    import ssl

    import httpx

    probe = ssl.create_default_context(cafile=pki["ca.pem"])
    probe.load_cert_chain(pki["client.pem"], pki["client.key"])
    with _serving(cli, "https", httpx.Client(verify=probe), env=tls) as base:
        with SalePointClient(base, key, verify=pki["ca.pem"],
                             cert=(pki["client.pem"], pki["client.key"])) as api:  # fmt: skip
            assert api.vendor()["code"] == "SHOP1"
        shown = cli.run("vend", M[2], "5", "--server", base, role=None,
                        STSVEND_TERMINAL_KEY=key, STSVEND_SERVER_CA=pki["ca.pem"])  # fmt: skip
        assert shown.returncode == 8 and "did not answer" in shown.stderr  # no certificate


def test_reprint_with_server_is_the_copy(served: Served) -> None:
    base, cli, key = served
    sold = cli.json("vend", M[2], "20.00", "--server", base, role=None,
                    STSVEND_TERMINAL_KEY=key)  # fmt: skip
    copy = cli.json("reprint", "last", "--server", base, role=None, STSVEND_TERMINAL_KEY=key)
    assert (copy["receipt"], copy["copy"], copy["mark"]) == (sold["receipt"], True, "COPY")
    shown = cli.ok("reprint", str(sold["receipt"]), "--server", base, role=None,
                   STSVEND_TERMINAL_KEY=key)  # fmt: skip
    assert "COPY" in shown
