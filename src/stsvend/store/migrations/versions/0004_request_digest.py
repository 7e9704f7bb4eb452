"""The digest of a request's content, kept with its stored answer.

A repeat under the same client request id is answered as a replay only when its content has
the same digest.  Rows stored before this revision have none (NULL): they keep replaying when
the operation and the meter match, as they did.

Revision ID: 0004
Revises: 0003
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sale", sa.Column("request_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sale") as batch:
        batch.drop_column("request_digest")
