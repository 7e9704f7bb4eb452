"""Shifts: the cash the operator counted at the end of the shift, and the system's total then.

``cash_counted`` is what the operator declared at ``shift end`` (minor units; null when the
shift was closed without a declaration, as every shift closed before this revision was);
``cash_expected`` is the cash the system recorded for the shift when it closed: credit sales
less refunds paid out (docs/operations.md, *Shifts and the cash count*).

Revision ID: 0006
Revises: 0005
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shift") as batch:
        batch.add_column(sa.Column("cash_counted", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("cash_expected", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shift") as batch:
        batch.drop_column("cash_expected")
        batch.drop_column("cash_counted")
