"""Run the Alembic migrations programmatically: no ``alembic.ini`` is needed anywhere.

``upgrade`` brings any database (an empty one included) to the head revision; ``check`` runs
Alembic's own ``check`` (the models against the migrated schema) and raises on drift;
``ensure_current`` is what every command runs before it touches data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Engine

from stsvend.store.errors import SchemaError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = [
    "HEAD",
    "MIGRATIONS_DIR",
    "alembic_config",
    "check",
    "current_revision",
    "downgrade",
    "ensure_current",
    "head_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest migration (a test keeps it equal to the scripts' head).  Kept as a constant so
#: that every command can check the schema without importing Alembic.
HEAD = "0022"


def alembic_config(url: str | None = None) -> AlembicConfig:
    """An Alembic configuration built in code (``url`` only for standalone use)."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The head of the migration scripts (read by Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None for an empty database), read without Alembic."""
    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except sa_exc.ProgrammingError:
            return None  # PostgreSQL: no such table
        except sa_exc.OperationalError as error:
            if "no such table" in str(error):
                return None  # SQLite
            raise
    return rows[0][0] if len(rows) == 1 else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` (each migration in its own transaction)."""
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def check(engine: Engine) -> None:
    """``alembic check``: raise :class:`SchemaError` if the models and the migrations differ."""
    from alembic import command
    from alembic.util.exc import CommandError

    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        try:
            command.check(config)
        except CommandError as exc:
            raise SchemaError(f"the models and the migrations differ: {exc}") from None


def ensure_current(engine: Engine) -> None:
    """Refuse to work on a database that is not at the head revision."""
    current = current_revision(engine)
    if current != HEAD:
        if current is None:
            raise SchemaError("the database is empty: run `stsvend init` first")
        raise SchemaError(
            f"the database is at revision {current}, this stsvend needs {HEAD}: "
            "run `stsvend db upgrade`"
        )
