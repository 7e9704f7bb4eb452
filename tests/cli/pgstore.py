"""The CLI tests' PostgreSQL databases: a base that is reset between tests, and an empty one.

Creating a database per test (``CREATE DATABASE … TEMPLATE``) costs little, but dropping one
forces a checkpoint, seconds each on a busy server; so each test session (each xdist worker)
makes two databases and keeps them:

* ``base``: the base installation; after it is built its rows are copied into a schema of
  their own (``cli_base``), and :meth:`PgStore.reset` puts them back before each test (one
  transaction: DELETE, INSERT … SELECT in foreign-key order, sequences set back);
* ``empty``: wiped (its ``public`` schema dropped and made again) for tests that start with
  ``stsvend init`` or with no store at all.

Other sessions still connected to the database (a command's pool that was not closed, a worker
process) are ended first, so a reset never waits for them.
"""

from __future__ import annotations

import graphlib
import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

from stsvend.store.engine import normalise_url

__all__ = ["PgStore"]

_SNAPSHOT = "cli_base"


def _terminate_others(conn: Connection) -> None:
    conn.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )


class PgStore:
    """Two databases of one test session on the server of ``url``."""

    def __init__(self, admin: Engine, server_url: str, base: str, empty: str) -> None:
        self._admin = admin
        self._server = server_url
        self._names = (base, empty)
        self.base_url = self._url(base)
        self.empty_url = self._url(empty)
        self._base = create_engine(self.base_url)
        self._empty = create_engine(self.empty_url)
        self._tables: list[str] = []
        self._sequences: list[tuple[str, int, bool]] = []

    @classmethod
    def create(cls, url: str) -> PgStore:
        server = make_url(normalise_url(url))
        admin_url = server.set(database="postgres").render_as_string(hide_password=False)
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        tag = secrets.token_hex(4)
        base, empty = f"stsvend_cli_{tag}_base", f"stsvend_cli_{tag}_empty"
        with admin.connect() as conn:
            for name in (base, empty):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                # As tests.store.pgdb: commits do not wait for the WAL to reach the disk.
                conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        return cls(admin, admin_url, base, empty)

    def _url(self, name: str) -> str:
        return make_url(self._server).set(database=name).render_as_string(hide_password=False)

    def snapshot(self) -> None:
        """Keep the base's rows (call once, after the base is built)."""
        with self._base.begin() as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ]
            edges = conn.execute(
                text(
                    "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text "
                    "FROM pg_constraint c WHERE c.contype = 'f' "
                    "AND c.connamespace = 'public'::regnamespace"
                )
            ).all()
            order: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
            for table in tables:
                order.add(table)
            for child, parent in edges:
                if child != parent:
                    order.add(child.strip('"'), parent.strip('"'))
            self._tables = list(order.static_order())
            conn.execute(text(f"CREATE SCHEMA {_SNAPSHOT}"))
            for table in self._tables:
                conn.execute(text(f'CREATE TABLE {_SNAPSHOT}."{table}" AS TABLE public."{table}"'))
            # Every sequence, used at the base or not: (name, value, whether it was used).
            self._sequences = [
                (str(r[0]), int(r[1]), bool(r[2]))
                for r in conn.execute(
                    text(
                        "SELECT sequencename, coalesce(last_value, start_value), "
                        "last_value IS NOT NULL FROM pg_sequences WHERE schemaname = 'public'"
                    )
                )
            ]

    def reset(self) -> None:
        """Put the base back as it was built.

        DELETE, not TRUNCATE: the tables are small, and TRUNCATE gives each table new files,
        which costs more than deleting a few rows.  Children go first, parents are filled first;
        the whole reset is one transaction sent as one script (one round trip).
        """
        script = ["SET LOCAL lock_timeout = '20s'"]
        script += [f'DELETE FROM public."{t}"' for t in reversed(self._tables)]
        script += [
            f'INSERT INTO public."{t}" SELECT * FROM {_SNAPSHOT}."{t}"' for t in self._tables
        ]
        script += [
            f"SELECT setval('public.\"{name}\"', {value}, {'true' if used else 'false'})"
            for name, value, used in self._sequences
        ]
        with self._base.begin() as conn:
            _terminate_others(conn)
            conn.exec_driver_sql(";\n".join(script))

    def wipe_empty(self) -> None:
        """Leave the empty database without any table."""
        with self._empty.begin() as conn:
            _terminate_others(conn)
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))

    def drop(self) -> None:
        self._base.dispose()
        self._empty.dispose()
        with self._admin.connect() as conn:
            for name in self._names:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                )
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        self._admin.dispose()
