"""The CRM's other identifiers of an account: contract account, installation, division, device
equipment number and move-in date (``stsvend crm import``).

Each is the CRM's number only (SAP IS-U's ``VKONTO``, ``ANLAGE``, ``SPARTE``, ``EQUNR`` and
``EINZDAT``, or the IS-E export's columns mapped to them); names, addresses and phone numbers
stay in the CRM and have no column here.

Revision ID: 0021
Revises: 0020
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("contract_account", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("installation", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("division", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("equipment", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("move_in", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("account") as batch:
        for name in ("move_in", "equipment", "division", "installation", "contract_account"):
            batch.drop_column(name)
