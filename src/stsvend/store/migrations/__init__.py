"""Alembic migrations of the stsvend schema (run through :mod:`stsvend.store.migrate`)."""

__all__: list[str] = []
