"""An installation for in-process CLI runs, and the runner the strict-input tests share.

The store is built once through the services (SQLite, or PostgreSQL when a URL is given), the
TEST key file imported under a raw hex KEK (no passphrase, so no scrypt on open), one operator
per role with an open shift.  The operators' PIN hashes are then rewritten with the smallest
scrypt cost the verifier accepts (2**10), a test-only setting that makes a login take about a
millisecond, so that thousands of CLI commands can run in one process.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from stsvend import sts

KEK = "5a" * 32
PINS = {"admin": "100001", "clerk": "200002", "supervisor": "300003", "engineer": "400004",
        "auditor": "500005"}  # fmt: skip
ROLES = tuple(PINS)
#: The PIN an admin gives a new operator, replaced by PINS[role] at the first login.
FIRST_PIN = "918273"
INTERNAL = 70


def drn(n: int) -> str:
    body = f"01{n:08d}"
    return body + str(sts.luhn_check_digit(body))


M = {i: drn(i) for i in range(1, 8)}


def _fast_hash(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**10, r=8, p=1, maxmem=2**24, dklen=32)
    return f"scrypt$10$8$1${salt.hex()}${digest.hex()}"


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


@dataclass
class Store:
    """One data directory (and, for PostgreSQL, its database URL)."""

    data_dir: Path
    database_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    reuse_services: bool = False
    _services: dict[tuple[bool, bool, bool], Any] = field(default_factory=dict, repr=False)

    def env(self, role: str | None) -> dict[str, str | None]:
        """The environment of a run; None unsets the caller's own ``STSVEND_*`` variables."""
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("STSVEND_")}
        env.update(
            STSVEND_DATA_DIR=str(self.data_dir), STSVEND_KEK=KEK, STSVEND_TERMINAL="T1",
            STSVEND_CURRENCY="ZAR", STSVEND_TIMEZONE="Africa/Johannesburg",
            STSVEND_NEW_PIN="777777", COLUMNS="200",
        )  # fmt: skip
        if self.database_url:
            env["STSVEND_DATABASE_URL"] = self.database_url
        if role is not None:
            env.update(STSVEND_OPERATOR=role, STSVEND_PIN=PINS[role])
        env.update(self.extra)
        return env

    def run(self, *args: str, role: str | None = "admin", stdin: bytes = b"") -> Outcome:
        """``stsvend ARGS`` in this process, through its real entry point (exit codes too)."""
        from stsvend_cli import common
        from stsvend_cli.main import main

        runner = CliRunner()
        opener = common.open_services
        if self.reuse_services:
            common.open_services = functools.partial(self._shared_services, opener)
        try:
            with runner.isolation(input=stdin, env=self.env(role)) as streams:
                try:
                    main(list(args))
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
                out, err = streams[0].getvalue(), streams[1].getvalue()
        finally:
            common.open_services = opener
        return Outcome(code, out.decode(errors="replace"), err.decode(errors="replace"))

    def _shared_services(self, opener: Any, *, keys: bool = True, demo: bool = False,
                         migrate: bool = False) -> Any:  # fmt: skip
        # The fuzz run opens the services once per kind and reuses them, so that SQLAlchemy's
        # statement cache survives between commands (a fresh engine compiles every statement
        # again); each command still logs in, authorises and parses as it always does.
        key = (keys, demo, migrate)
        if key not in self._services:
            self._services[key] = opener(keys=keys, demo=demo, migrate=migrate)
        return self._services[key]


def build(folder: Path, database_url: str | None = None) -> Store:
    from sqlalchemy import update

    from stsvend.config import load_config
    from stsvend.keystore import KekSource, SealedKeystore, demo_key_file
    from stsvend.services import auth, registry, tariffs, vend
    from stsvend.services.bootstrap import create_keystore, keystore_path, open_services
    from stsvend.store.models import Operator

    store = Store(folder, database_url)
    env = {k: v for k, v in store.env(None).items() if v is not None}
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
            # An operator added by an admin chooses their own PIN at the first login.
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
        with svc.store.transaction() as conn:
            for role in ROLES:
                conn.execute(
                    update(Operator).where(Operator.username == role)
                    .values(pin_hash=_fast_hash(PINS[role]))
                )  # fmt: skip
    finally:
        svc.store.dispose()
    return store


def copy(base: Store, target: Path) -> Store:
    """A private copy of a SQLite installation."""
    shutil.copytree(base.data_dir, target)
    return Store(target, base.database_url)
