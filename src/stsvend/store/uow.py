"""The store: an engine, and one transaction per business operation (the unit of work).

``with store.transaction() as conn:`` commits when the block ends and rolls everything back when
it raises, so the tokens, ledger entries and log rows of an operation are written together or
not at all.  Driver errors leave as :class:`~stsvend.store.errors.StorageError` with a sentence
a clerk can act on; no driver traceback reaches a user.

>>> store = Store.open("sqlite://", create=True)
>>> with store.transaction() as conn:
...     conn.exec_driver_sql("SELECT count(*) FROM meter").scalar()
0
>>> store.dispose()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from stsvend.store.engine import is_sqlite, make_engine
from stsvend.store.errors import StorageError
from stsvend.store.writes import discard, flush, translate
from stsvend.tokenlog.chain import LogKey

__all__ = ["LOG_KEY_INFO", "Store"]

#: Where a transaction's connection carries the store's log key (for the operation log).
LOG_KEY_INFO = "stsvend.log_key"


def _describe(error: sa_exc.DBAPIError) -> str:
    text = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return text[:200]


class Store:
    """A database behind the services.  Build it with :meth:`open`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: The token log key, when the process holds it: every transaction's connection
        #: carries it, so that operation-log entries are chained wherever they are written.
        self.log_key: LogKey | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @classmethod
    def open(cls, url: str, *, create: bool = False, migrate: bool = False) -> Store:
        """Connect to ``url``.

        ``migrate`` runs the Alembic migrations up to head (what ``stsvend init`` does);
        ``create`` builds the tables straight from the models (in-memory test databases);
        with neither, the schema must already be current.
        """
        engine = make_engine(url)
        store = cls(engine)
        try:
            if create:
                from stsvend.store import models  # noqa: F401
                from stsvend.store.base import Base

                Base.metadata.create_all(engine)
            elif migrate:
                from stsvend.store.migrate import upgrade

                upgrade(engine)
            else:
                from stsvend.store.migrate import ensure_current

                ensure_current(engine)
        except sa_exc.DBAPIError as error:
            engine.dispose()
            raise StorageError(f"cannot use the database: {_describe(error)}") from None
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(str(self.engine.url))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction: commit on success, roll back on any exception.

        The writes the block staged (:mod:`stsvend.store.writes`) go out before the commit, in
        the same round trip on PostgreSQL.
        """
        try:
            with self.engine.begin() as conn:
                conn.info[LOG_KEY_INFO] = self.log_key
                try:
                    yield conn
                    flush(conn, commit=True)
                finally:
                    discard(conn)
        except sa_exc.SQLAlchemyError as error:
            mine = translate(error)
            if mine is None:
                raise
            raise mine from None

    def dispose(self) -> None:
        self.engine.dispose()
