"""The work-order tests use the CLI tests' installations (SQLite and PostgreSQL) and the server
tests' running ``stsvend serve``."""

from tests.cli.conftest import backend, cli
from tests.server.conftest import served

__all__ = ["backend", "cli", "served"]
