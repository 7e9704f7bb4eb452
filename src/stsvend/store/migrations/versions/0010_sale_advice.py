"""Vendors' advices: ``sale_advice``, one row per purchase a vendor confirmed or reversed.

A confirmation says the token reached the customer; a reversal advice says it did not, and
names the reversal sale that refunded the float.  ``sale_id`` is unique: the first advice
about a purchase stands, so a confirmed purchase is never reversed by an advice and a reversed
one is never confirmed (docs/server.md, *Reversal policy*).

Revision ID: 0010
Revises: 0009
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sale_advice",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("sale_id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("reversal_id", _BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(["sale_id"], ["sale.id"], name=op.f("fk_sale_advice_sale_id_sale")),
        sa.ForeignKeyConstraint(
            ["reversal_id"], ["sale.id"], name=op.f("fk_sale_advice_reversal_id_sale")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_advice")),
        sa.UniqueConstraint("sale_id", name=op.f("uq_sale_advice_sale_id")),
    )


def downgrade() -> None:
    op.drop_table("sale_advice")
