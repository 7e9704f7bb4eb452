"""A ready installation built once, copied afresh for each test, on SQLite and on PostgreSQL.

The base (built once per session and database): a store, the TEST key file imported under a
KEK from the environment, supply group 123456, tariff FLAT, meters M1-M6, accounts for M1-M4,
one operator per role each with an open shift at terminal T1, a sale on M1 (receipt 1) and an
issued key change on M4.

Every test that takes ``cli`` runs twice: on SQLite (the data directory is copied) and on
PostgreSQL (the data directory is copied and the database is reset to the base, see
:mod:`tests.cli.pgstore`); the PostgreSQL runs are skipped when STSVEND_TEST_POSTGRES_URL is
unset.  Commands run in-process through click's runner (:meth:`Cli.run`), as ``stsvend`` would
run them, with the environment of the run only; :meth:`Cli.run_process` runs the real program
for the smoke tests.  Either way no traceback and no internal error may reach the output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from stsvend import sts
from tests.cli.pgstore import PgStore
from tests.store.pgdb import ENV as PG_ENV

STSVEND = [sys.executable, "-m", "stsvend_cli"]
KEK = "5a" * 32
PINS = {"admin": "104729", "clerk": "208351", "supervisor": "309457", "engineer": "401283",
        "auditor": "507619"}  # fmt: skip
#: The PIN an admin gives a new operator, who replaces it (with PINS[role]) at the first login.
FIRST_PIN = "918273"
ROLES = tuple(PINS)
BACKENDS = ("sqlite", "postgresql")


def drn(n: int) -> str:
    body = f"01{n:08d}"
    return body + str(sts.luhn_check_digit(body))


M = {i: drn(i) for i in range(1, 8)}


@dataclass(frozen=True)
class Outcome:
    """What one run of ``stsvend`` left: its exit code and its two output streams."""

    returncode: int
    stdout: str
    stderr: str


def _clean(stdout: str, stderr: str) -> None:
    # Whatever happens, no traceback reaches the user.
    for text in (stdout, stderr):
        assert "Traceback" not in text, text
        assert "internal error" not in text, text


@dataclass
class Cli:
    """Runs ``stsvend`` against one data directory (and database), as one operator."""

    data_dir: Path
    #: None: the SQLite file in the data directory.
    database_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def settings(self, role: str | None) -> dict[str, str]:
        """The ``STSVEND_*`` variables of a run (and the terminal width)."""
        env = {
            "STSVEND_DATA_DIR": str(self.data_dir),
            "STSVEND_KEK": KEK,
            "STSVEND_TERMINAL": "T1",
            "STSVEND_CURRENCY": "ZAR",
            "STSVEND_TIMEZONE": "Africa/Johannesburg",
            "STSVEND_UTILITY_NAME": "City Power",
            "STSVEND_TAX_NUMBER": "VAT-4012345678",
            "STSVEND_NEW_PIN": "736251",
            "COLUMNS": "200",
        }
        if self.database_url is not None:
            env["STSVEND_DATABASE_URL"] = self.database_url
        if role is not None:
            env.update(STSVEND_OPERATOR=role, STSVEND_PIN=PINS[role])
        env.update(self.env)
        return env

    def base_env(self, role: str | None) -> dict[str, str]:
        """The whole environment of a run as a process: this one's, minus its STSVEND_*."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")}
        env.update(self.settings(role))
        return env

    def run(self, *args: str, role: str | None = "admin", **env: str) -> Outcome:
        """Run ``stsvend ARGS`` in this process, through click's runner."""
        from stsvend_cli.main import run

        wanted = {**self.settings(role), **env}
        # The run sees only its own STSVEND_* variables, as a fresh process would.
        overrides: dict[str, str | None] = {
            k: None for k in os.environ if k.startswith("STSVEND_") and k not in wanted
        }
        overrides.update(wanted)
        with CliRunner().isolation(env=overrides) as (out, err, _):
            try:
                code = run(list(args))
            except SystemExit as exc:  # pragma: no cover - run() returns its code
                code = exc.code if isinstance(exc.code, int) else 1
            sys.stdout.flush()
            sys.stderr.flush()
            result = Outcome(code, out.getvalue().decode(), err.getvalue().decode())
        _clean(result.stdout, result.stderr)
        return result

    def run_process(
        self, *args: str, role: str | None = "admin", **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run ``stsvend ARGS`` as a process of its own (the smoke tests)."""
        proc = subprocess.run(
            STSVEND + list(args), capture_output=True, text=True, timeout=120,
            env={**self.base_env(role), **env}, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        _clean(proc.stdout, proc.stderr)
        return proc

    def ok(self, *args: str, role: str | None = "admin", **env: str) -> str:
        proc = self.run(*args, role=role, **env)
        assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout

    def json(self, *args: str, role: str | None = "admin", **env: str) -> Any:
        return json.loads(self.ok(*args, "--json", role=role, **env))

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'stsvend.db'}"

    def sql(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        """Run one SQL statement on this installation's database, as its owner (or an insider)
        would, and commit; returns the rows it gave."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement), params)
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def operations(self, action: str) -> list[tuple[str, str, Any]]:
        """(operator, outcome, detail) of each operation-log entry of ``action``, oldest first."""
        rows = self.sql(
            "SELECT operator, outcome, detail FROM operation_log WHERE action = :a ORDER BY id",
            a=action,
        )
        return [(r[0], r[1], json.loads(r[2]) if isinstance(r[2], str) else r[2]) for r in rows]


def build(cli: Cli) -> Cli:
    """The base installation, made in-process through the services (the CLI's own library
    calls; every command is then tested through the CLI on copies of it)."""
    from stsvend.config import load_config
    from stsvend.keystore import KekSource, SealedKeystore, demo_key_file
    from stsvend.services import auth, keychange, pin, registry, tariffs, terminals, vend, vendors
    from stsvend.services.bootstrap import create_keystore, keystore_path, open_services

    env = cli.base_env(None)
    config = load_config(env)
    cli.data_dir.mkdir(parents=True, mode=0o700)
    # The base's PINs are hashed at a low scrypt cost, so that each of the many logins of the
    # tests is cheap; the stored hash names its cost, so login runs the production code path.
    # PINs the tests set through the CLI get the production cost.
    cost = pin._LOG2_N
    pin._LOG2_N = 10
    try:
        svc = open_services(config, env=env, keys=False, migrate=True)
        auth.bootstrap_admin(svc, "admin", PINS["admin"])
        svc.store.dispose()
        create_keystore(config, test=True, env=env)
        SealedKeystore.open(keystore_path(config), KekSource.from_hex(KEK)).import_key_file(
            demo_key_file()
        )
        svc = open_services(config, env=env)
        try:
            actors = {"admin": auth.login(svc, "admin", PINS["admin"])}
            for role in ROLES[1:]:
                auth.add_operator(svc, actors["admin"], role, role, FIRST_PIN)
                auth.login(svc, role, FIRST_PIN, new_pin=PINS[role])
            for role in ROLES:
                actors[role] = auth.start_shift(svc, auth.login(svc, role, PINS[role]))
            admin = actors["admin"]
            registry.add_group(svc, admin, 123456, name="Demo", krn=1)
            tariffs.add_tariff(svc, admin, "FLAT", name="Flat", blocks=[(None, "2.00")],
                               tax_percent="15", emergency_units=100)  # fmt: skip
            for i in range(1, 7):
                registry.add_meter(svc, admin, M[i], sgc=123456)
            for i in range(1, 5):
                registry.open_account(svc, admin, customer=f"C-{i}", contract=f"K-{i}",
                                      drn=M[i], tariff="FLAT")  # fmt: skip
            vend.vend(svc, actors["clerk"], M[1], "20")
            keychange.key_change_meter(svc, actors["engineer"], M[4], krn=2, issue=True)
            vendors.add_vendor(svc, admin, "SHOP1", name="Corner shop", commission="2.5")
            terminals.add_terminal(svc, admin, "SHOP1", "TILL-1")
        finally:
            svc.store.dispose()
    finally:
        pin._LOG2_N = cost
    return cli


class Backend:
    """One database kind: the base installation on it, and private copies of that base."""

    def __init__(self, name: str, root: Path, pg: PgStore | None = None) -> None:
        self.name = name
        self.root = root
        self.pg = pg
        self.base = build(Cli(root / "base", pg.base_url if pg else None))
        if pg is not None:
            pg.snapshot()

    def copy(self, folder: Path) -> Cli:
        """A private copy of the base installation in ``folder`` (on PostgreSQL: the one test
        database, reset to the base; so one copy at a time)."""
        shutil.copytree(self.base.data_dir, folder)
        if self.pg is None:
            return Cli(folder)
        self.pg.reset()
        return Cli(folder, self.pg.base_url)

    def empty(self, folder: Path) -> Cli:
        """An installation with nothing yet: no data directory, an empty database."""
        if self.pg is None:
            return Cli(folder)
        self.pg.wipe_empty()
        return Cli(folder, self.pg.empty_url)

    def close(self) -> None:
        if self.pg is not None:
            self.pg.drop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    root = tmp_path_factory.mktemp(f"cli-{request.param}")
    if request.param == "sqlite":
        made = Backend("sqlite", root)
    else:
        if not os.environ.get(PG_ENV):
            pytest.skip(f"{PG_ENV} is not set (no PostgreSQL server for tests)")
        made = Backend("postgresql", root, PgStore.create(os.environ[PG_ENV]))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def cli(backend: Backend, tmp_path: Path) -> Cli:
    """A private copy of the base installation."""
    return backend.copy(tmp_path / "data")


@pytest.fixture
def fresh(backend: Backend, tmp_path: Path) -> Cli:
    """A new installation: nothing made yet (``stsvend init`` is the first command)."""
    return backend.empty(tmp_path / "fresh")
