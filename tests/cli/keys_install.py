"""A fresh installation for the key custody tests, on SQLite or PostgreSQL, driven by real
``stsvend`` subprocesses (these tests kill processes, so they never run in-process).

``installation`` is the fixture: an initialised store (first admin ``admin``) with no keystore
yet, its database a fresh SQLite file or a throw-away PostgreSQL database.  ``stsvend init``
runs once per database kind and test session; each test gets a copy of what it made (its data
directory, and its database: the file, or ``CREATE DATABASE … TEMPLATE``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from stsvend.keystore.kcv import vending_key_check_value
from tests.store.pgdb import ENV as PG_ENV
from tests.store.pgdb import temporary_database

STSVEND = [sys.executable, "-m", "stsvend_cli"]
KEK = "6b" * 32
ADMIN_PIN = "104729"
#: Keys no public material holds, for a PRODUCTION key file.
PRODUCTION_DES_KEY = "1f2e3d4c5b6a7988"
PRODUCTION_160_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f001122334"


def production_entry(sgc: str = "654321", krn: int = 1, key: str = PRODUCTION_DES_KEY,
                     dkga: str = "02", kind: str = "VUDK") -> dict[str, Any]:  # fmt: skip
    kcv = vending_key_check_value(bytes.fromhex(key), dkga)
    return {"sgc": sgc, "krn": krn, "dkga": dkga, "type": kind, "key": key, "kcv": kcv}


def key_file(*entries: Mapping[str, Any], test: bool = False) -> str:
    """A key file in the documented TOML form."""
    lines = ['format = "stsvend-keys/1"', f"test = {'true' if test else 'false'}"]
    for entry in entries:
        lines.append("[[keys]]")
        for name, value in entry.items():
            lines.append(f'{name} = "{value}"' if isinstance(value, str) else f"{name} = {value}")
    return "\n".join(lines) + "\n"


@dataclass
class Install:
    """One installation: its data directory and database, and how to run ``stsvend`` on it."""

    data_dir: Path
    database_url: str

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")}
        env.update(
            STSVEND_DATA_DIR=str(self.data_dir),
            STSVEND_DATABASE_URL=self.database_url,
            STSVEND_KEK=KEK,
            STSVEND_TERMINAL="T1",
            STSVEND_UTILITY_NAME="City Power",
            STSVEND_TAX_NUMBER="VAT-4012345678",
            STSVEND_CURRENCY="USD",
            STSVEND_TIMEZONE="UTC",
            STSVEND_OPERATOR="admin",
            STSVEND_PIN=ADMIN_PIN,
            COLUMNS="200",
        )
        env.update(extra)
        return env

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            STSVEND + list(args), capture_output=True, text=True, timeout=120,
            env=self.env(**env), stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "internal error" not in proc.stderr, proc.stderr
        return proc

    def ok(self, *args: str, **env: str) -> str:
        proc = self.run(*args, **env)
        assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc.stdout

    def json(self, *args: str, **env: str) -> Any:
        return json.loads(self.ok(*args, "--json", **env))

    def spawn(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            STSVEND + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=self.env(**env), stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def write(self, name: str, text: str) -> Path:
        path = self.data_dir.parent / name
        path.write_text(text)
        return path

    def operations(self, action: str) -> list[dict[str, Any]]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT operator, outcome, detail FROM operation_log "
                         "WHERE action = :a ORDER BY id"), {"a": action},
                ).all()  # fmt: skip
        finally:
            engine.dispose()
        return [{"operator": r[0], "outcome": r[1], "detail": r[2]} for r in rows]


class _Initialised:
    """``stsvend init`` run once per database kind (as a process, as each test did before);
    each test gets a copy of its data directory and database."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._made: dict[str, Install] = {}
        self._stack = ExitStack()

    def _template(self, kind: str) -> Install:
        if kind not in self._made:
            data_dir = self._root / f"template-{kind}"
            if kind == "postgresql":
                url = self._stack.enter_context(temporary_database("stsvend_keys_tpl"))
            else:
                url = f"sqlite:///{data_dir / 'stsvend.db'}"
            made = Install(data_dir, url)
            made.ok("init", "--admin", "admin")
            self._made[kind] = made
        return self._made[kind]

    @contextmanager
    def copy(self, kind: str, data_dir: Path) -> Iterator[Install]:
        template = self._template(kind)
        shutil.copytree(template.data_dir, data_dir)
        if kind == "postgresql":
            name = make_url(template.database_url).database
            with temporary_database("stsvend_keys", template=name) as url:
                yield Install(data_dir, url)
        else:
            yield Install(data_dir, f"sqlite:///{data_dir / 'stsvend.db'}")

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def keys_initialised(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Initialised]:
    made = _Initialised(tmp_path_factory.mktemp("keys-init"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def installation(
    request: pytest.FixtureRequest, tmp_path: Path, keys_initialised: _Initialised
) -> Iterator[Install]:
    data_dir = tmp_path / f"data-{secrets.token_hex(3)}"
    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    with keys_initialised.copy(request.param, data_dir) as inst:
        yield inst
