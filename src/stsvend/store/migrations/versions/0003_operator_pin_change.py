"""Operators: ``must_change_pin``, the flag that makes an operator choose a new PIN at login.

A PIN set by an admin for someone else, or by the break-glass unlock, must be replaced by its
owner; so must every PIN shorter than the 6-digit minimum (docs/security.md).  A stored PIN is a
scrypt hash, so the length of an existing PIN cannot be known: every operator that exists when
this migration runs gets the flag, and chooses a new PIN (6 to 12 digits) at the next login.

Revision ID: 0003
Revises: 0002
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get true (their PIN may be short); the default is then dropped, as the
    # models set the value on every insert.
    with op.batch_alter_table("operator") as batch:
        batch.add_column(
            sa.Column("must_change_pin", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("operator") as batch:
        batch.alter_column("must_change_pin", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("must_change_pin")
