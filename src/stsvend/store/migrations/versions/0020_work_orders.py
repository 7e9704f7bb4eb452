"""Installation work orders: ``work_order``, ``workorder_route``, ``workorder_outbox``,
``workorder_run`` and ``credit_transfer``.

Orders come from the CRM's drop folder and are stored by the CRM's order id; each order type's
routing rule names the installer's system; the outbox holds what must be delivered at least once
(routed orders, applied completions, result files); a replaced meter's remaining credit waits in
``credit_transfer`` until the new meter's commissioning key change is confirmed.

Revision ID: 0020
Revises: 0019
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_order",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("bulk_id", sa.String(length=40), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("installation", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order")),
        sa.UniqueConstraint("order_id", name=op.f("uq_work_order_order_id")),
    )
    op.create_index(op.f("ix_work_order_type"), "work_order", ["type"])
    op.create_index(op.f("ix_work_order_state"), "work_order", ["state"])
    op.create_table(
        "workorder_route",
        sa.Column("order_type", sa.String(length=24), nullable=False),
        sa.Column("adapter", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("order_type", name=op.f("pk_workorder_route")),
    )
    op.create_table(
        "workorder_outbox",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("message_id", sa.String(length=80), nullable=False),
        sa.Column("work_order_id", _BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", _AT, nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("delivered_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_order.id"],
                                name=op.f("fk_workorder_outbox_work_order_id_work_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workorder_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_workorder_outbox_message_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_workorder_outbox_work_order_id"), "workorder_outbox",
                    ["work_order_id"])  # fmt: skip
    op.create_index(op.f("ix_workorder_outbox_state"), "workorder_outbox", ["state"])
    op.create_index(op.f("ix_workorder_outbox_next_at"), "workorder_outbox", ["next_at"])
    op.create_table(
        "workorder_run",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=True),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workorder_run")),
    )
    op.create_index(op.f("ix_workorder_run_at"), "workorder_run", ["at"])
    op.create_table(
        "credit_transfer",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("work_order_id", _BIG_ID, nullable=False),
        sa.Column("old_meter", sa.String(length=13), nullable=False),
        sa.Column("new_meter", sa.String(length=13), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("sale_id", _BIG_ID, nullable=True),
        sa.Column("issued_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_order.id"],
                                name=op.f("fk_credit_transfer_work_order_id_work_order")),
        sa.ForeignKeyConstraint(["sale_id"], ["sale.id"],
                                name=op.f("fk_credit_transfer_sale_id_sale")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_transfer")),
        sa.UniqueConstraint("work_order_id", name=op.f("uq_credit_transfer_work_order_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_credit_transfer_state"), "credit_transfer", ["state"])


def downgrade() -> None:
    op.drop_table("credit_transfer")
    op.drop_table("workorder_run")
    op.drop_table("workorder_outbox")
    op.drop_table("workorder_route")
    op.drop_table("work_order")
