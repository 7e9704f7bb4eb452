"""A person's session at a terminal (``terminal_session``): a login over the sale-point API.

A clerk selling through a terminal logs in to the server (``POST /v1/sessions``); the requests
that carry the session's token act as that person, in their own role and shift.  The token is
stored only as its SHA-256 hash (docs/server.md, "Operator sessions").

Revision ID: 0011
Revises: 0010
Created: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "terminal_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("last_used_at", _AT, nullable=False),
        sa.Column("expires_at", _AT, nullable=False),
        sa.Column("ended_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminal.id"], name=op.f("fk_terminal_session_terminal_id_terminal")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_terminal_session_operator_id_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminal_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_terminal_session_token_hash")),
    )
    op.create_index(op.f("ix_terminal_session_terminal_id"), "terminal_session", ["terminal_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_terminal_session_terminal_id"), table_name="terminal_session")
    op.drop_table("terminal_session")
