"""The premise of an account (``account.premise``): the CRM's premise number, pseudonymous.

A CRM import (``stsvend crm import``) records where a contract's meter is installed by the
CRM's premise number (IS-U's ``VSTELLE``), never an address; the billing export maps a premise
to its metering point.

Revision ID: 0012
Revises: 0011
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("premise", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_account_premise"), "account", ["premise"])


def downgrade() -> None:
    op.drop_index(op.f("ix_account_premise"), table_name="account")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("premise")
