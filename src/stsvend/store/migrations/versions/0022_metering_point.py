"""The metering point of each premise (``metering_point``): the billing export's MSCONS key.

``stsvend billing metering-points import FILE`` fills it from a CSV of premise and metering
point; the MSCONS consumption report carries each account's units under its premise's metering
point (docs/integration.md, "Billing export").

Revision ID: 0022
Revises: 0021
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metering_point",
        sa.Column("premise", sa.String(length=40), nullable=False),
        sa.Column("metering_point", sa.String(length=35), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("premise", name=op.f("pk_metering_point")),
    )


def downgrade() -> None:
    op.drop_table("metering_point")
