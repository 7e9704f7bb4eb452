"""Alembic environment: the models' metadata, batch mode for SQLite, a connection from the caller.

:mod:`stsvend.store.migrate` builds the Alembic ``Config`` in code and passes an open connection
in ``config.attributes["connection"]``; without one (plain ``alembic -x url=...``) an engine is
made from the URL.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from stsvend.store import models  # noqa: F401  # registers every table on the metadata
from stsvend.store.base import Base, UtcDateTime
from stsvend.store.engine import make_engine

__all__: list[str] = []


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import application types: render ours as the plain type they wrap.
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # The monthly partitions of meter_reading are made at run time, not by migrations.
    return not (type_ == "table" and name is not None and name.startswith("meter_reading_y"))


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        render_item=_render_item,
        include_name=_include_name,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database URL: alembic -x url=... (or use `stsvend db`)")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use `stsvend db upgrade`")
_main()
