"""A ready vending installation for service tests: store, TEST keys, clock, operators."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from stsvend import sts
from stsvend.config import Config, load_config
from stsvend.keystore import SoftwareSecurityModule, demo_key_file
from stsvend.services import auth, pin, registry, tariffs
from stsvend.services.context import Actor, Services
from stsvend.services.receipt_model import TokenEntry
from stsvend.store.uow import Store
from stsvend.tokenlog.chain import LogKey

START = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
LOG_KEY = LogKey(b"test log key for services tests!")
PINS = {"admin": "104729", "clerk": "208351", "supervisor": "309457", "engineer": "401283",
        "auditor": "507619"}  # fmt: skip
#: The PIN an admin gives a new operator, who replaces it (with PINS[role]) at the first login.
FIRST_PIN = "918273"


class Clock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class SeededRandom:
    """Deterministic stand-in for ``secrets`` (tests only)."""

    def __init__(self, seed: int = 7) -> None:
        self._r = random.Random(seed)

    def randbelow(self, exclusive_upper_bound: int) -> int:
        return self._r.randrange(exclusive_upper_bound)

    def token_hex(self, nbytes: int | None = None) -> str:
        return self._r.randbytes(nbytes or 16).hex()

    def copy(self) -> SeededRandom:
        """A source that goes on from this one's state, on its own."""
        twin = SeededRandom()
        twin._r.setstate(self._r.getstate())
        return twin


def hsm() -> SoftwareSecurityModule:
    return SoftwareSecurityModule.from_key_file(demo_key_file())


def config(**env: str) -> Config:
    return load_config({"STSVEND_DATA_DIR": "/nonexistent/stsvend-test", "STSVEND_CURRENCY": "ZAR",
                        "STSVEND_TIMEZONE": "Africa/Johannesburg", "STSVEND_TERMINAL": "T1",
                        **env})  # fmt: skip


class Installation:
    """Services plus one logged-in actor per role (each with an open shift)."""

    def __init__(self, url: str = "sqlite://", *, create: bool = True, **env: str) -> None:
        # Cheaper PIN hashes keep the suite fast; the stored form names its cost, so
        # verification is the production code path (tests/services/test_auth.py checks the
        # real cost separately).
        pin._LOG2_N = 10
        self.clock = Clock()
        store = Store.open(url, create=create, migrate=not create)
        self.svc = Services(store, config(**env), hsm=hsm(), log_key=LOG_KEY, clock=self.clock,
                            rng=SeededRandom())  # fmt: skip
        auth.bootstrap_admin(self.svc, "admin", PINS["admin"])
        self.admin = auth.login(self.svc, "admin", PINS["admin"])
        self.actors: dict[str, Actor] = {"admin": auth.start_shift(self.svc, self.admin)}
        for role in ("clerk", "supervisor", "engineer", "auditor"):
            auth.add_operator(self.svc, self.admin, role, role, FIRST_PIN)
            actor = auth.login(self.svc, role, FIRST_PIN, new_pin=PINS[role])
            self.actors[role] = auth.start_shift(self.svc, actor)
        self.admin = self.actors["admin"]
        registry.add_group(self.svc, self.admin, 123456, name="Demo", krn=1, base_date=2014)
        tariffs.add_tariff(
            self.svc, self.admin, "FLAT", name="Flat", blocks=[(None, "2.00")],
            tax_percent="15", emergency_units=100,
        )  # fmt: skip

    @property
    def clerk(self) -> Actor:
        return self.actors["clerk"]

    @property
    def supervisor(self) -> Actor:
        return self.actors["supervisor"]

    @property
    def engineer(self) -> Actor:
        return self.actors["engineer"]

    def meter(
        self, drn: str, *, default_key: bool = False, tariff: str = "FLAT", sgc: int = 123456,
        contract: str | None = None, **account: Any,
    ) -> registry.MeterAdded:  # fmt: skip
        out = registry.add_meter(self.svc, self.admin, drn, sgc=sgc, default_key=default_key)
        registry.open_account(
            self.svc, self.admin, customer=f"C-{drn}", contract=contract or f"K-{drn}", drn=drn,
            tariff=tariff, **account,
        )  # fmt: skip
        return out

    def count(self, table: str) -> int:
        with self.svc.store.transaction() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())

    def close(self) -> None:
        self.svc.store.dispose()

    def twin(self, url: str, **env: str) -> Installation:
        """This installation on ``url``, a copy of its database (tests/services/saved.py): the
        same actors, clock time, random state and settings (or those of ``env``); nothing is
        built again."""
        twin = object.__new__(Installation)
        twin.clock = Clock(self.clock.now)
        rng = self.svc.rng
        assert isinstance(rng, SeededRandom)
        settings = config(**env) if env else self.svc.config
        twin.svc = Services(Store.open(url), settings, hsm=hsm(), log_key=LOG_KEY,
                            clock=twin.clock, rng=rng.copy())  # fmt: skip
        twin.actors = dict(self.actors)
        twin.admin = self.admin
        return twin


def drn(n: int) -> str:
    """The n-th valid 11-digit DRN of manufacturer 01."""
    body = f"01{n:08d}"
    return body + str(sts.luhn_check_digit(body))


@contextmanager
def installation(url: str = "sqlite://", **kwargs: Any) -> Iterator[Installation]:
    inst = Installation(url, **kwargs)
    try:
        yield inst
    finally:
        inst.close()


@contextmanager
def installation_on(backend: str) -> Iterator[Installation]:
    """An installation on ``backend``: "sqlite" (in memory) or "postgresql" (a database of its
    own, dropped after; the test is skipped without STSVEND_TEST_POSTGRES_URL)."""
    if backend == "sqlite":
        with installation() as inst:
            yield inst
        return
    import os

    import pytest

    from tests.store.pgdb import ENV, temporary_database

    if not os.environ.get(ENV):
        pytest.skip(f"{ENV} is not set")
    with temporary_database() as url, installation(url, create=False) as inst:
        yield inst


def digits(token: TokenEntry) -> str:
    """A handed-out token's digits (only a reversal's receipt names a token without them)."""
    assert token.digits is not None, token
    return token.digits


def tid(token: TokenEntry) -> int:
    """A credit or management token's TID (only a test token has none)."""
    assert token.tid is not None, token
    return token.tid
