"""An installation built once per test session and database kind, copied for each test.

Building an :class:`~tests.services.helpers.Installation` on a new database runs the
migrations, hashes five PINs and writes a few dozen rows; a test that needs one on a database
of its own (a file, a PostgreSQL database: other processes connect to it, or it is tampered
with) pays that each time.  :class:`Saved` builds it once (and whatever a test module adds to
it), keeps the database as a template, and gives each test a copy of the database with an
installation bound to it: the same rows, clock time, random state and logged-in actors as the
one built, nothing shared with another test.

* SQLite: the database file is copied (the template is closed first, so it holds everything).
* PostgreSQL: ``CREATE DATABASE … TEMPLATE`` (:func:`tests.store.pgdb.temporary_database`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Generic, TypeVar

import pytest
from sqlalchemy.engine import make_url

from tests.services.helpers import Installation
from tests.store.pgdb import requires_postgres, temporary_database

__all__ = ["BACKENDS", "Bare", "Saved", "saved"]

T = TypeVar("T")

#: Fixture parameters: SQLite, and PostgreSQL when STSVEND_TEST_POSTGRES_URL names a server.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=[requires_postgres, pytest.mark.postgres])]


class Saved(Generic[T]):
    """An installation (plus ``build``'s result) saved as a template database of one kind."""

    def __init__(
        self, kind: str, folder: Path, build: Callable[[Installation], T], **env: str
    ) -> None:
        self.kind = kind
        self._stack = ExitStack()
        if kind == "sqlite":
            folder.mkdir(parents=True, exist_ok=True)
            self._file: Path | None = folder / "template.db"
            url = f"sqlite:///{self._file}"
        else:
            self._file = None
            url = self._stack.enter_context(temporary_database("stsvend_tpl"))
        self._template = make_url(url).database or ""
        self.inst = Installation(url, create=False, **env)
        try:
            self.built = build(self.inst)
        finally:
            # Closed: a file copy then holds every row, and PostgreSQL copies a template only
            # while nobody is connected to it.
            self.inst.close()
        if self._file is not None:
            assert not Path(f"{self._file}-wal").exists(), "the template was not checkpointed"

    @contextmanager
    def _database(self, folder: Path) -> Iterator[str]:
        if self._file is not None:
            folder.mkdir(parents=True, exist_ok=True)
            copy = folder / "stsvend.db"
            shutil.copyfile(self._file, copy)
            yield f"sqlite:///{copy}"
        else:
            with temporary_database(template=self._template) as url:
                yield url

    @contextmanager
    def copy(self, folder: Path, **env: str) -> Iterator[tuple[str, Installation]]:
        """A copy of the database (its URL) and the installation on it, closed after; ``env``:
        the installation's settings, if not those it was built with."""
        with self._database(folder) as url:
            twin = self.inst.twin(url, **env)
            try:
                yield url, twin
            finally:
                twin.close()

    def close(self) -> None:
        self._stack.close()


def saved(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    build: Callable[[Installation], T],
    **env: str,
) -> AbstractContextManager[Saved[T]]:
    """For a session fixture parametrised with :data:`BACKENDS`: the saved installation of
    ``request.param``, removed at the end of the session."""

    @contextmanager
    def made() -> Iterator[Saved[T]]:
        it = Saved(request.param, tmp_path_factory.mktemp(f"saved-{request.param}"), build, **env)
        try:
            yield it
        finally:
            it.close()

    return made()


def _nothing(inst: Installation) -> None:
    return None


class Bare:
    """The plain installation (operators, shifts, supply group 123456, tariff FLAT), saved once
    per database kind on first use (the session fixture ``bare`` of tests/conftest.py)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._saved: dict[str, Saved[None]] = {}

    @contextmanager
    def copy(self, kind: str, folder: Path, **env: str) -> Iterator[tuple[str, Installation]]:
        """A copy of the plain installation on ``kind`` ("sqlite": a file in ``folder``,
        "postgresql": a database of its own), with its URL; ``env`` as :meth:`Saved.copy`."""
        if kind not in self._saved:
            self._saved[kind] = Saved(kind, self._folder / kind, _nothing)
        with self._saved[kind].copy(folder, **env) as made:
            yield made

    def close(self) -> None:
        for it in self._saved.values():
            it.close()
