"""Protected records: sales, ledger lines and the operation log join the keyed, sealed log.

* ``sale_record``: a row in the sale's meter's chain carries the SHA-256 of the sale and its
  ledger lines, so that a changed amount, tax or ledger line no longer matches the chain;
* ``operation_log`` gets a chain per operator (``chain``, ``seq``, ``prev_mac``, ``mac``);
* chain names widen to 64 characters (``op:`` and a username);
* ``log_sealed_head.seal_id``: the sealer's index names the seal entry it relies on;
* the setting ``records_protected_from`` states from which point the records are protected:
  sales and operation-log entries with an id above the recorded ones.  Earlier rows are
  listed by ``stsvend log verify`` as "before protection" (docs/token-log.md).

Revision ID: 0005
Revises: 0004
Created: 2026-12-03
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BOUNDARY = "records_protected_from"


def _widen(table: str, width: int, *, nullable: bool = False) -> None:
    with op.batch_alter_table(table) as batch:
        batch.alter_column(
            "chain",
            existing_type=sa.String(length=13 if width == 64 else 64),
            type_=sa.String(length=width),
            existing_nullable=nullable,
        )


def upgrade() -> None:
    bind = op.get_bind()
    for table in ("log_head", "log_seal_entry", "log_sealed_head"):
        _widen(table, 64)
    with op.batch_alter_table("log_sealed_head") as batch:
        batch.add_column(sa.Column("seal_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "sale_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chain", sa.String(length=13), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=True),
        sa.Column("sale_id", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("meter", sa.String(length=13), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("operator", sa.String(length=40), nullable=False),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("prev_mac", sa.LargeBinary(length=32), nullable=False),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_record")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_sale_record_chain_seq")),
        sa.UniqueConstraint("sale_id", name=op.f("uq_sale_record_sale_id")),
    )
    with op.batch_alter_table("operation_log") as batch:
        batch.add_column(sa.Column("chain", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_mac", sa.LargeBinary(length=32), nullable=True))
        batch.add_column(sa.Column("mac", sa.LargeBinary(length=32), nullable=True))
        batch.create_index(batch.f("ix_operation_log_chain"), ["chain"], unique=False)
    sale = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM sale")).scalar_one()
    oplog = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM operation_log")).scalar_one()
    bind.execute(
        sa.text("INSERT INTO setting (name, value) VALUES (:n, :v)"),
        {"n": _BOUNDARY, "v": json.dumps({"sale": int(sale), "operation": int(oplog)})},
    )


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM setting WHERE name = :n"), {"n": _BOUNDARY})
    with op.batch_alter_table("operation_log") as batch:
        batch.drop_index(batch.f("ix_operation_log_chain"))
        for column in ("mac", "prev_mac", "seq", "chain"):
            batch.drop_column(column)
    op.drop_table("sale_record")
    bind.execute(sa.text("DELETE FROM log_sealed_head WHERE chain LIKE 'op:%'"))
    bind.execute(sa.text("DELETE FROM log_seal_entry WHERE chain LIKE 'op:%'"))
    bind.execute(sa.text("DELETE FROM log_head WHERE chain LIKE 'op:%'"))
    with op.batch_alter_table("log_sealed_head") as batch:
        batch.drop_column("seal_id")
    for table in ("log_sealed_head", "log_seal_entry", "log_head"):
        _widen(table, 13)
