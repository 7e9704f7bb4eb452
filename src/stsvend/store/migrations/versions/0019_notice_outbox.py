"""Customer notices: the outbox (``notice_outbox``), opt-outs per channel (``notice_opt_out``)
and the producer's watermarks (``notice_watermark``).

The outbox holds a notice's template values (a receipt's token digits among them) until a purge
blanks them, and never a contact: phone numbers and e-mail addresses are looked up in the CRM
when a notice is sent (docs/integration.md, "Notifications").

Revision ID: 0019
Revises: 0018
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AT = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notice_outbox",
        sa.Column("id", _ID, nullable=False),
        sa.Column("message_id", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _AT, nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"],
            name=op.f("fk_notice_outbox_customer_id_customer"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_notice_outbox_message_id")),
    )
    op.create_index(op.f("ix_notice_outbox_customer_id"), "notice_outbox", ["customer_id"])
    op.create_index("ix_notice_outbox_due", "notice_outbox", ["state", "next_attempt_at"])
    op.create_table(
        "notice_opt_out",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"],
            name=op.f("fk_notice_opt_out_customer_id_customer"),
        ),
        sa.PrimaryKeyConstraint("customer_id", "channel", name=op.f("pk_notice_opt_out")),
    )
    op.create_table(
        "notice_watermark",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notice_watermark")),
    )


def downgrade() -> None:
    op.drop_table("notice_watermark")
    op.drop_table("notice_opt_out")
    op.drop_index("ix_notice_outbox_due", table_name="notice_outbox")
    op.drop_index(op.f("ix_notice_outbox_customer_id"), table_name="notice_outbox")
    op.drop_table("notice_outbox")
