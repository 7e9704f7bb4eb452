"""Key change reasons are stored whole: ``key_change.reason`` grows from 16 to 200 characters.

Before this revision a change of several key data fields was recorded cut short (a KEN, KT,
KRN, SGC and TI change as ``ken,key_type,krn``); rows written before it keep their cut text.
SQLite has no ALTER COLUMN: batch mode copies the table, and the partial index of open key
changes is made again with its condition (a copy would not keep it).

Revision ID: 0002
Revises: 0001
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out (not imported): a migration states the schema as it was at its revision.
_OPEN = "state IN ('pending', 'issued')"


def _reason(length_from: int, length_to: int) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.drop_index("uq_key_change_open", table_name="key_change")
    with op.batch_alter_table("key_change") as batch:
        batch.alter_column(
            "reason",
            existing_type=sa.String(length=length_from),
            type_=sa.String(length=length_to),
            existing_nullable=False,
        )
    if sqlite:
        op.create_index(
            "uq_key_change_open", "key_change", ["meter_id"], unique=True,
            sqlite_where=sa.text(_OPEN),
        )  # fmt: skip


def upgrade() -> None:
    _reason(16, 200)


def downgrade() -> None:
    # Reasons longer than 16 characters are cut to fit the old column.
    op.execute(sa.text("UPDATE key_change SET reason = substr(reason, 1, 16)"))
    _reason(200, 16)
