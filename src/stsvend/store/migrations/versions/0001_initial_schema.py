"""Initial schema: every table of stsvend, from the first migration on.

Generated from the models by autogenerate (on PostgreSQL, so that no SQLite batch
operations are needed for a fresh database) and reviewed.

Revision ID: 0001
Revises:
Created: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

__all__: list[str] = []

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_number", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("customer_number", name=op.f("uq_customer_customer_number")),
    )
    op.create_table(
        "log_head",
        sa.Column("chain", sa.String(length=13), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_log_head")),
    )
    op.create_table(
        "log_seal",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("prev_mac", sa.LargeBinary(length=32), nullable=False),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_seal")),
    )
    op.create_table(
        "log_sealed_head",
        sa.Column("chain", sa.String(length=13), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_log_sealed_head")),
    )
    op.create_table(
        "meter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drn", sa.String(length=13), nullable=False),
        sa.Column("iin", sa.String(length=6), nullable=False),
        sa.Column("resource", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sgc", sa.Integer(), nullable=False),
        sa.Column("ti", sa.Integer(), nullable=False),
        sa.Column("krn", sa.Integer(), nullable=False),
        sa.Column("key_type", sa.Integer(), nullable=False),
        sa.Column("ea", sa.String(length=2), nullable=False),
        sa.Column("base_date", sa.Integer(), nullable=False),
        sa.Column("ken", sa.Integer(), nullable=False),
        sa.Column("dkga", sa.String(length=2), nullable=False),
        sa.Column("min_vend", sa.BigInteger(), nullable=True),
        sa.Column("max_vend", sa.BigInteger(), nullable=True),
        sa.Column("daily_limit", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter")),
        sa.UniqueConstraint("drn", name=op.f("uq_meter_drn")),
    )
    op.create_index(op.f("ix_meter_sgc"), "meter", ["sgc"], unique=False)
    op.create_table(
        "operation_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operator", sa.String(length=40), nullable=False),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operation_log")),
    )
    op.create_index(op.f("ix_operation_log_at"), "operation_log", ["at"], unique=False)
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator")),
        sa.UniqueConstraint("username", name=op.f("uq_operator_username")),
    )
    op.create_table(
        "setting",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_setting")),
    )
    op.create_table(
        "supply_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sgc", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key_type", sa.Integer(), nullable=False),
        sa.Column("krn", sa.Integer(), nullable=False),
        sa.Column("dkga", sa.String(length=2), nullable=False),
        sa.Column("ea", sa.String(length=2), nullable=False),
        sa.Column("base_date", sa.Integer(), nullable=False),
        sa.Column("ken", sa.Integer(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_group")),
        sa.UniqueConstraint("sgc", name=op.f("uq_supply_group_sgc")),
    )
    op.create_table(
        "tariff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff")),
        sa.UniqueConstraint("code", name=op.f("uq_tariff_code")),
    )
    op.create_table(
        "token_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chain", sa.String(length=13), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=12), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=True),
        sa.Column("sale_id", sa.BigInteger(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("meter", sa.String(length=13), nullable=True),
        sa.Column("token_class", sa.Integer(), nullable=True),
        sa.Column("subclass", sa.Integer(), nullable=True),
        sa.Column("base_date", sa.Integer(), nullable=True),
        sa.Column("tid", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("sgc", sa.Integer(), nullable=True),
        sa.Column("krn", sa.Integer(), nullable=True),
        sa.Column("ti", sa.Integer(), nullable=True),
        sa.Column("kcv", sa.String(length=6), nullable=True),
        sa.Column("operator", sa.String(length=40), nullable=False),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("digits", sa.String(length=20), nullable=True),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("ref_seq", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("prev_mac", sa.LargeBinary(length=32), nullable=False),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_log")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_token_log_chain_seq")),
        sa.UniqueConstraint(
            "meter", "base_date", "tid", name=op.f("uq_token_log_meter_base_date_tid")
        ),
    )
    op.create_index("ix_token_log_at", "token_log", ["at"], unique=False)
    op.create_index(op.f("ix_token_log_operator"), "token_log", ["operator"], unique=False)
    op.create_index(op.f("ix_token_log_sale_id"), "token_log", ["sale_id"], unique=False)
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_number", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("tariff_id", sa.Integer(), nullable=False),
        sa.Column("credit_balance", sa.BigInteger(), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        sa.Column("debt_recovery_bp", sa.Integer(), nullable=False),
        sa.Column("emergency_debt", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_account_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["meter_id"], ["meter.id"], name=op.f("fk_account_meter_id_meter")),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["tariff.id"], name=op.f("fk_account_tariff_id_tariff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("contract_number", name=op.f("uq_account_contract_number")),
    )
    op.create_index(op.f("ix_account_customer_id"), "account", ["customer_id"], unique=False)
    op.create_index(
        "uq_account_open_meter",
        "account",
        ["meter_id"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "key_change_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("sgc", sa.Integer(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_key_change_job_operator_id_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_change_job")),
        sa.UniqueConstraint("request_id", name=op.f("uq_key_change_job_request_id")),
    )
    op.create_table(
        "log_seal_entry",
        sa.Column("seal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chain", sa.String(length=13), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("mac", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["seal_id"], ["log_seal.id"], name=op.f("fk_log_seal_entry_seal_id_log_seal")
        ),
        sa.PrimaryKeyConstraint("seal_id", "chain", name=op.f("pk_log_seal_entry")),
    )
    op.create_table(
        "meter_tid",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("base_date", sa.Integer(), nullable=False),
        sa.Column("last_tid", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_meter_tid_meter_id_meter")
        ),
        sa.PrimaryKeyConstraint("meter_id", "base_date", name=op.f("pk_meter_tid")),
    )
    op.create_table(
        "shift",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_shift_operator_id_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift")),
    )
    op.create_index(
        "uq_shift_open",
        "shift",
        ["operator_id", "terminal"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_table(
        "account_month",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("fixed_charged", sa.Boolean(), nullable=False),
        sa.Column("free_units_issued", sa.Boolean(), nullable=False),
        sa.Column("free_issue_units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_account_month_account_id_account")
        ),
        sa.PrimaryKeyConstraint("account_id", "month", name=op.f("pk_account_month")),
    )
    op.create_table(
        "key_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("old_key", sa.JSON(), nullable=False),
        sa.Column("new_key", sa.JSON(), nullable=False),
        sa.Column("tokens", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["key_change_job.id"], name=op.f("fk_key_change_job_id_key_change_job")
        ),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meter.id"], name=op.f("fk_key_change_meter_id_meter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_change")),
        sa.UniqueConstraint("job_id", "meter_id", name=op.f("uq_key_change_job_id_meter_id")),
    )
    op.create_index(op.f("ix_key_change_meter_id"), "key_change", ["meter_id"], unique=False)
    op.create_index(
        "uq_key_change_open",
        "key_change",
        ["meter_id"],
        unique=True,
        sqlite_where=sa.text("state IN ('pending', 'issued')"),
        postgresql_where=sa.text("state IN ('pending', 'issued')"),
    )
    op.create_table(
        "sale",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("terminal", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column(
            "reversal_of", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("test", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_sale_account_id_account")
        ),
        sa.ForeignKeyConstraint(["meter_id"], ["meter.id"], name=op.f("fk_sale_meter_id_meter")),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["operator.id"], name=op.f("fk_sale_operator_id_operator")
        ),
        sa.ForeignKeyConstraint(
            ["reversal_of"], ["sale.id"], name=op.f("fk_sale_reversal_of_sale")
        ),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"], name=op.f("fk_sale_shift_id_shift")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale")),
        sa.UniqueConstraint("request_id", name=op.f("uq_sale_request_id")),
        sa.UniqueConstraint("reversal_of", name=op.f("uq_sale_reversal_of")),
    )
    op.create_index(op.f("ix_sale_created_at"), "sale", ["created_at"], unique=False)
    op.create_index(op.f("ix_sale_local_day"), "sale", ["local_day"], unique=False)
    op.create_index("ix_sale_meter_day", "sale", ["meter_id", "local_day"], unique=False)
    op.create_index(op.f("ix_sale_shift_id"), "sale", ["shift_id"], unique=False)
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sale_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("entry", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_ledger_entry_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sale.id"], name=op.f("fk_ledger_entry_sale_id_sale")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    op.create_index(op.f("ix_ledger_entry_sale_id"), "ledger_entry", ["sale_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_entry_sale_id"), table_name="ledger_entry")
    op.drop_table("ledger_entry")
    op.drop_index(op.f("ix_sale_shift_id"), table_name="sale")
    op.drop_index("ix_sale_meter_day", table_name="sale")
    op.drop_index(op.f("ix_sale_local_day"), table_name="sale")
    op.drop_index(op.f("ix_sale_created_at"), table_name="sale")
    op.drop_table("sale")
    op.drop_index(
        "uq_key_change_open",
        table_name="key_change",
        sqlite_where=sa.text("state IN ('pending', 'issued')"),
        postgresql_where=sa.text("state IN ('pending', 'issued')"),
    )
    op.drop_index(op.f("ix_key_change_meter_id"), table_name="key_change")
    op.drop_table("key_change")
    op.drop_table("account_month")
    op.drop_index(
        "uq_shift_open",
        table_name="shift",
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.drop_table("shift")
    op.drop_table("meter_tid")
    op.drop_table("log_seal_entry")
    op.drop_table("key_change_job")
    op.drop_index(
        "uq_account_open_meter",
        table_name="account",
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.drop_index(op.f("ix_account_customer_id"), table_name="account")
    op.drop_table("account")
    op.drop_index(op.f("ix_token_log_sale_id"), table_name="token_log")
    op.drop_index(op.f("ix_token_log_operator"), table_name="token_log")
    op.drop_index("ix_token_log_at", table_name="token_log")
    op.drop_table("token_log")
    op.drop_table("tariff")
    op.drop_table("supply_group")
    op.drop_table("setting")
    op.drop_table("operator")
    op.drop_index(op.f("ix_operation_log_at"), table_name="operation_log")
    op.drop_table("operation_log")
    op.drop_index(op.f("ix_meter_sgc"), table_name="meter")
    op.drop_table("meter")
    op.drop_table("log_sealed_head")
    op.drop_table("log_seal")
    op.drop_table("log_head")
    op.drop_table("customer")
