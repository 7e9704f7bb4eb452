"""Sale-point sales: request ids scoped by vendor, and an operator row per terminal.

``sale.scope`` is 0 for the store's own counters and the vendor's id for a vendor's sale; a
request id is unique within its scope (``uq_sale_scope_request_id`` replaces
``uq_sale_request_id``), so two vendors may use the same purchase id and neither ever gets
the other's answer.  ``sale.vendor_id`` names the selling vendor.  ``terminal.operator_id`` is
the operator row a terminal's sales name: ``VENDOR/TERMINAL``, a name no person can log in
with (``/`` is not allowed in an operator's name, and the row has no PIN).

Revision ID: 0008
Revises: 0007
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: What a terminal operator's ``pin_hash`` holds: not a hash, so no PIN ever matches it.
NO_PIN = "!terminal"  # the same value as stsvend.store.repos.operators.NO_PIN


def upgrade() -> None:
    with op.batch_alter_table("sale") as batch:
        batch.add_column(sa.Column("scope", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("vendor_id", sa.Integer(), nullable=True))
        batch.drop_constraint(op.f("uq_sale_request_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_sale_scope_request_id"), ["scope", "request_id"])
        batch.create_foreign_key(
            op.f("fk_sale_vendor_id_vendor"), "vendor", ["vendor_id"], ["id"]
        )
    with op.batch_alter_table("sale") as batch:
        batch.alter_column("scope", server_default=None)
    with op.batch_alter_table("terminal") as batch:
        batch.add_column(sa.Column("operator_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_terminal_operator_id_operator"), "operator", ["operator_id"], ["id"]
        )
    # Terminals made before this revision get their operator rows now.
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT t.id, t.role, t.created_at, v.code || '/' || t.code AS name "
        "FROM terminal t JOIN vendor v ON v.id = t.vendor_id WHERE t.operator_id IS NULL"
    )).all()  # fmt: skip
    for terminal_id, role, created_at, name in rows:
        conn.execute(sa.text(
            "INSERT INTO operator (username, role, pin_hash, active, failed_logins, created_at, "
            "must_change_pin) VALUES (:n, :r, :p, :a, 0, :c, :m)"
        ), {"n": name[:40], "r": role, "p": NO_PIN, "a": True, "c": created_at, "m": False})
        conn.execute(sa.text(
            "UPDATE terminal SET operator_id = (SELECT id FROM operator WHERE username = :n) "
            "WHERE id = :t"
        ), {"n": name[:40], "t": terminal_id})  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("terminal") as batch:
        batch.drop_constraint(op.f("fk_terminal_operator_id_operator"), type_="foreignkey")
        batch.drop_column("operator_id")
    with op.batch_alter_table("sale") as batch:
        batch.drop_constraint(op.f("fk_sale_vendor_id_vendor"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_sale_scope_request_id"), type_="unique")
        batch.create_unique_constraint(op.f("uq_sale_request_id"), ["request_id"])
        batch.drop_column("vendor_id")
        batch.drop_column("scope")
