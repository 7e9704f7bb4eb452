"""A terminal may be bound to its TLS client certificate (``terminal.cert_sha256``).

With mutual TLS, a terminal bound to a certificate (``stsvend terminals bind``) is admitted only
over a connection that showed that certificate: its key alone is not enough (docs/server.md).

Revision ID: 0009
Revises: 0008
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("terminal") as batch:
        batch.add_column(sa.Column("cert_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("terminal") as batch:
        batch.drop_column("cert_sha256")
