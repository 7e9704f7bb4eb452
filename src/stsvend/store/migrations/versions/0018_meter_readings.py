"""Meter readings (``meter_reading``, partitioned by month on PostgreSQL) and each meter's
reading head (``reading_head``).

Revision ID: 0018
Revises: 0012
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meter_reading",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("read_at", _AT, nullable=False),
        sa.Column("energy_wh", sa.BigInteger(), nullable=False),
        sa.Column("interval_wh", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("flag", sa.String(length=10), nullable=True),
        sa.Column("received_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_meter_reading_meter_id_meter")
        ),
        sa.PrimaryKeyConstraint("meter_id", "read_at", name=op.f("pk_meter_reading")),
        postgresql_partition_by="RANGE (read_at)",
    )
    op.create_table(
        "reading_head",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("last_at", _AT, nullable=False),
        sa.Column("good_at", _AT, nullable=True),
        sa.Column("good_wh", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_reading_head_meter_id_meter")
        ),
        sa.PrimaryKeyConstraint("meter_id", name=op.f("pk_reading_head")),
    )


def downgrade() -> None:
    op.drop_table("reading_head")
    op.drop_table("meter_reading")  # on PostgreSQL its monthly partitions go with it
