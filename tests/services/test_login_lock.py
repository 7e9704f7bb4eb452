"""Many logins of one operator at once, each over its own connection: the lockout counts every
wrong PIN and holds, on PostgreSQL and on SQLite."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.services import auth, pin
from stsvend.services.context import Services
from stsvend.store.uow import Store
from stsvend.vending.errors import PermissionDenied
from tests.services.helpers import LOG_KEY, PINS, Installation, config, hsm
from tests.services.saved import Bare

WRONG = 31


@pytest.fixture(params=["postgresql", "sqlite"])
def backend(
    request: pytest.FixtureRequest, bare: Bare, tmp_path: Path
) -> Iterator[tuple[str, Installation]]:
    if request.param == "postgresql" and not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
        pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
    with bare.copy(request.param, tmp_path) as made:
        yield made


def url_of(inst: Installation) -> str:
    return inst.svc.store.engine.url.render_as_string(hide_password=False)


def login_outcomes(inst: Installation, username: str) -> list[tuple[str, str]]:
    """(outcome, reason) of the operator's logins, in commit order."""
    with inst.svc.store.transaction() as conn:
        rows = conn.exec_driver_sql(
            "SELECT outcome, detail FROM operation_log WHERE action = 'login' AND operator = "
            f"'{username}' ORDER BY id"
        ).all()
    out = []
    for outcome, detail in rows:
        if isinstance(detail, str):
            import json

            detail = json.loads(detail)
        out.append((outcome, (detail or {}).get("reason", "")))
    return out


def test_concurrent_wrong_pins_and_the_right_one_cannot_bypass_the_lockout(
    backend: tuple[str, Installation], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, inst = backend
    # The production cost: each check takes long enough for every login to be in flight at once.
    monkeypatch.setattr(pin, "_LOG2_N", 14)
    auth.set_pin(inst.svc, inst.admin, "clerk", "735194")
    auth.login(inst.svc, "clerk", "735194", new_pin=PINS["clerk"])
    before = len(login_outcomes(inst, "clerk"))
    services = [
        Services(Store.open(url), config(), hsm=hsm(), log_key=LOG_KEY) for _ in range(WRONG + 1)
    ]
    for svc in services:  # connect before the start, so that the logins really overlap
        with svc.store.transaction() as conn:
            conn.exec_driver_sql("SELECT 1")
    pins = ["000000"[: 6 - len(str(i))] + str(i + 100) for i in range(WRONG)] + [PINS["clerk"]]
    start = threading.Barrier(len(pins))
    results: list[str] = [""] * len(pins)
    checked: list[str] = []
    real_verify = pin.verify_pin

    def counting_verify(candidate: str, stored: str) -> bool:
        checked.append(candidate)  # list.append is atomic under the GIL
        return real_verify(candidate, stored)

    monkeypatch.setattr(auth, "verify_pin", counting_verify)

    def attempt(i: int) -> None:
        start.wait()
        try:
            auth.login(services[i], "clerk", pins[i])
            results[i] = "ok"
        except PermissionDenied as exc:
            results[i] = exc.message

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(pins))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for svc in services:
            svc.store.dispose()
    assert all(results)
    # Serialised: at most MAX_FAILED_LOGINS - 1 wrong PINs, the right one, then
    # MAX_FAILED_LOGINS wrong ones again are checked; every later attempt is refused unchecked.
    assert len(checked) <= 2 * auth.MAX_FAILED_LOGINS, len(checked)
    outcomes = login_outcomes(inst, "clerk")[before:]
    assert len(outcomes) == len(pins)
    # In commit order: never more than MAX_FAILED_LOGINS wrong PINs checked in a row, and no
    # success once that many failed; after that every attempt is refused unchecked.
    run = 0
    for outcome, reason in outcomes:
        if outcome == "ok":
            assert run < auth.MAX_FAILED_LOGINS, outcomes
            run = 0
        elif reason == "locked":
            assert run >= auth.MAX_FAILED_LOGINS, outcomes
        else:
            assert reason == "wrong PIN", outcomes
            run += 1
            assert run <= auth.MAX_FAILED_LOGINS, outcomes
    with pytest.raises(PermissionDenied, match="locked"):
        auth.login(inst.svc, "clerk", PINS["clerk"])


def test_an_unknown_or_disabled_name_costs_a_pin_check_like_a_wrong_pin(
    backend: tuple[str, Installation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the sale-point API anyone with a terminal's key may try names: the answer's timing
    must not tell which exist."""
    _url, inst = backend
    auth.set_operator_active(inst.svc, inst.admin, "auditor", False)
    checks: list[int] = []
    real = hashlib.scrypt

    def counted(password: bytes, *, salt: bytes, n: int, r: int, p: int, maxmem: int,
                dklen: int) -> bytes:  # fmt: skip
        checks.append(n)
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    for name in ("clerk", "nobody", "auditor"):
        with pytest.raises(PermissionDenied, match="unknown operator or wrong PIN"):
            auth.login(inst.svc, name, "000000")
    assert len(checks) == 3
    assert checks[1] == checks[2] == 1 << pin._LOG2_N  # today's cost, not a cheap one
    assert [r for _o, r in login_outcomes(inst, "nobody")] == ["unknown operator"]
