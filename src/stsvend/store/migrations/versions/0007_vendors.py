"""Vendors: the sale-point tables (vendors, float slots, float ledger, terminals).

``vendor_float`` keeps a vendor's float in slots, each checked against its floor by the
database (``ck_vendor_float_floor``); ``vendor_ledger`` is the float's insert-only history;
``terminal`` keeps a terminal's API key as a hash beside its public prefix
(docs/vendors.md).

Revision ID: 0007
Revises: 0006
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vendor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("commission_bp", sa.Integer(), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("low_float", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor")),
        sa.UniqueConstraint("code", name=op.f("uq_vendor_code")),
    )
    op.create_table(
        "vendor_commission",
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("resource", sa.Integer(), nullable=False),
        sa.Column("commission_bp", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_vendor_commission_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("vendor_id", "resource", name=op.f("pk_vendor_commission")),
    )
    op.create_table(
        "vendor_float",
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("floor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("balance >= floor", name=op.f("ck_vendor_float_floor")),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_vendor_float_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("vendor_id", "slot", name=op.f("pk_vendor_float")),
    )
    op.create_table(
        "vendor_ledger",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("at", _AT, nullable=False),
        sa.Column("entry", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("sale_id", _BIG_ID, nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sale.id"], name=op.f("fk_vendor_ledger_sale_id_sale")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_vendor_ledger_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_ledger")),
    )
    op.create_index(op.f("ix_vendor_ledger_vendor_id"), "vendor_ledger", ["vendor_id"])
    op.create_index(op.f("ix_vendor_ledger_sale_id"), "vendor_ledger", ["sale_id"])
    op.create_table(
        "terminal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("key_set_at", _AT, nullable=False),
        sa.Column("revoked_at", _AT, nullable=True),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendor.id"], name=op.f("fk_terminal_vendor_id_vendor")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terminal")),
        sa.UniqueConstraint("key_prefix", name=op.f("uq_terminal_key_prefix")),
        sa.UniqueConstraint("vendor_id", "code", name=op.f("uq_terminal_vendor_id_code")),
    )
    op.create_index(op.f("ix_terminal_vendor_id"), "terminal", ["vendor_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_terminal_vendor_id"), table_name="terminal")
    op.drop_table("terminal")
    op.drop_index(op.f("ix_vendor_ledger_sale_id"), table_name="vendor_ledger")
    op.drop_index(op.f("ix_vendor_ledger_vendor_id"), table_name="vendor_ledger")
    op.drop_table("vendor_ledger")
    op.drop_table("vendor_float")
    op.drop_table("vendor_commission")
    op.drop_table("vendor")
