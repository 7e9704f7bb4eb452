"""A ready installation built through the CLI itself, copied afresh for each test.

The base (built once per session, by running ``stsvend`` as a user does): a SQLite store, the
TEST key file imported under a KEK from the environment, supply group 123456, tariff FLAT,
meters M1-M6, accounts for M1-M4, one operator per role each with an open shift at terminal
T1, a sale on M1 (receipt 1) and an issued key change on M4.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stsvend import sts

STSVEND = [sys.executable, "-m", "stsvend_cli"]
KEK = "5a" * 32
PINS = {"admin": "104729", "clerk": "208351", "supervisor": "309457", "engineer": "401283",
        "auditor": "507619"}  # fmt: skip
#: The PIN an admin gives a new operator, who replaces it (with PINS[role]) at the first login.
FIRST_PIN = "918273"
ROLES = tuple(PINS)


def drn(n: int) -> str:
    body = f"01{n:08d}"
    return body + str(sts.luhn_check_digit(body))


M = {i: drn(i) for i in range(1, 8)}


@dataclass
class Cli:
    """Runs ``stsvend`` against one data directory, as one operator."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    def base_env(self, role: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")}
        env.update(
            STSVEND_DATA_DIR=str(self.data_dir),
            STSVEND_KEK=KEK,
            STSVEND_TERMINAL="T1",
            STSVEND_CURRENCY="ZAR",
            STSVEND_TIMEZONE="Africa/Johannesburg",
            STSVEND_UTILITY_NAME="City Power",
            STSVEND_TAX_NUMBER="VAT-4012345678",
            STSVEND_NEW_PIN="736251",
            COLUMNS="200",
        )
        if role is not None:
            env.update(STSVEND_OPERATOR=role, STSVEND_PIN=PINS[role])
        env.update(self.env)
        return env

    def run(
        self, *args: str, role: str | None = "admin", **env: str
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            STSVEND + list(args), capture_output=True, text=True, timeout=120,
            env={**self.base_env(role), **env}, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        # Whatever happens, no traceback reaches the user.
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "internal error" not in proc.stderr, proc.stderr
        return proc

    def ok(self, *args: str, role: str | None = "admin", **env: str) -> str:
        proc = self.run(*args, role=role, **env)
        assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout

    def json(self, *args: str, role: str | None = "admin", **env: str) -> Any:
        return json.loads(self.ok(*args, "--json", role=role, **env))


def build(folder: Path) -> Cli:
    """The base installation, made in-process through the services (the CLI's own library
    calls; every command is then tested through the CLI on copies of it)."""
    from stsvend.config import load_config
    from stsvend.keystore import KekSource, SealedKeystore, demo_key_file
    from stsvend.services import auth, keychange, registry, tariffs, vend
    from stsvend.services.bootstrap import create_keystore, keystore_path, open_services

    cli = Cli(folder)
    env = cli.base_env(None)
    config = load_config(env)
    folder.mkdir(parents=True, mode=0o700)
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
            registry.open_account(svc, admin, customer=f"C-{i}", contract=f"K-{i}", drn=M[i],
                                  tariff="FLAT")  # fmt: skip
        vend.vend(svc, actors["clerk"], M[1], "20")
        keychange.key_change_meter(svc, actors["engineer"], M[4], krn=2, issue=True)
    finally:
        svc.store.dispose()
    return cli


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return build(tmp_path_factory.mktemp("base") / "data")


@pytest.fixture
def cli(base: Cli, tmp_path: Path) -> Cli:
    """A private copy of the base installation."""
    target = tmp_path / "data"
    shutil.copytree(base.data_dir, target)
    return Cli(target)
