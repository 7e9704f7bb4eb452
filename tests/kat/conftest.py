"""Known answers at the CLI's boundary: a fixed clock and fixed randomness, exact outputs.

The installation is the CLI tests' base (:func:`tests.cli.conftest.build`: TEST keys, supply
group 123456, tariff FLAT, meters M1-M6, accounts on M1-M4, a shift per role, a sale on M1 and
an issued key change on M4), built here under a pinned clock and a seeded random source, so
that it is the same on every run, on SQLite and on PostgreSQL.  Each test then runs ``stsvend``
in-process on a private copy of it, again under a pinned clock and a seeded random source, and
compares the ``--json`` document and the printed receipt with the answer written in the test.

How the clock and the randomness get in: :class:`~stsvend.services.context.Services` takes
both (``clock``, ``rng``); the CLI opens its services through
:func:`stsvend.services.bootstrap.open_services`, which calls the name ``Services`` of that
module.  These fixtures replace that name, in this test process only, with a factory that adds
the pinned clock and random source (pytest's ``monkeypatch``, undone after each test).  Nothing
in the program reads a setting, a variable or a file to do this, so no production run can pin
its clock or its randomness: the hook exists only inside a test process that patches it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stsvend.config import Config
from stsvend.keystore.module import SecurityModule
from stsvend.services import bootstrap
from stsvend.services.context import Services
from stsvend.store.uow import Store
from stsvend.tokenlog.chain import LogKey
from tests.cli.conftest import Backend, Cli
from tests.cli.pgstore import PgStore
from tests.services.helpers import Clock, SeededRandom
from tests.store.pgdb import ENV as PG_ENV

#: When the base installation is built (UTC); every test's clock starts later that morning.
BUILT_AT = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
#: The clock of each test when its first command runs.
START = datetime(2026, 3, 10, 7, 30, tzinfo=UTC)


class Pinned:
    """The clock and random source every ``Services`` of the test process gets."""

    def __init__(self, at: datetime, seed: int) -> None:
        self.clock = Clock(at)
        self.rng = SeededRandom(seed)

    def factory(self) -> Callable[..., Services]:
        def make(
            store: Store,
            config: Config,
            *,
            hsm: SecurityModule | None = None,
            log_key: LogKey | None = None,
        ) -> Services:
            return Services(store, config, hsm=hsm, log_key=log_key, clock=self.clock,
                            rng=self.rng)  # fmt: skip

        return make


class Kat:
    """``stsvend`` on a private copy of the pinned base, with the pinned clock and randomness."""

    def __init__(self, cli: Cli, pinned: Pinned, backend: str) -> None:
        self.cli = cli
        self.pinned = pinned
        self.backend = backend

    def json(self, *args: str, role: str = "clerk") -> dict[str, Any]:
        doc: dict[str, Any] = self.cli.json(*args, role=role)
        return doc

    def text(self, *args: str, role: str = "clerk") -> str:
        return self.cli.ok(*args, role=role)

    def advance(self, **delta: float) -> None:
        self.pinned.clock.advance(**delta)

    @property
    def now(self) -> datetime:
        return self.pinned.clock.now


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def kat_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    root = tmp_path_factory.mktemp(f"kat-{request.param}")
    pg = None
    if request.param == "postgresql":
        if not os.environ.get(PG_ENV):
            pytest.skip(f"{PG_ENV} is not set (no PostgreSQL server for tests)")
        pg = PgStore.create(os.environ[PG_ENV])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bootstrap, "Services", Pinned(BUILT_AT, 1).factory())
        made = Backend(request.param, root, pg)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def kat(kat_backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kat:
    """A private copy of the pinned base; its commands run at :data:`START`, seed 2."""
    pinned = Pinned(START, 2)
    monkeypatch.setattr(bootstrap, "Services", pinned.factory())
    return Kat(kat_backend.copy(tmp_path / "data"), pinned, kat_backend.name)
