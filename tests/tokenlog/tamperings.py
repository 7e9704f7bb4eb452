"""The tamperings a database administrator without the log key can do, as an insider would do
them: plain SQL on a real store (SQLite, PostgreSQL).

Each :class:`Tampering` is one row of the table in docs/token-log.md (same id, same order):
``detected`` says when ``stsvend log verify`` reports it — ``"always"``, ``"anchor"`` (only
given an external anchor taken before the tampering) or ``"never"`` (a documented limit).

The scene (:func:`build_scene`): meters A and B with three sales each, a refused login, a
seal, one more sale each, a final seal whose MAC is the auditor's anchor.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from attrs import field, frozen
from sqlalchemy import text
from sqlalchemy.engine import Connection

from stsvend.errors import StsError
from stsvend.services import auth, vend
from stsvend.store.base import Base
from stsvend.tokenlog.writer import last_seal, write_seal
from tests.services.helpers import LOG_KEY, Installation, drn

__all__ = ["TAMPERINGS", "A", "B", "Scene", "Tampering", "build_scene", "restore", "snapshot"]

A, B = drn(1), drn(2)


@frozen
class Scene:
    inst: Installation
    #: The newest seal's MAC when the scene was built (the auditor's anchor).
    anchor: bytes
    #: Every row of the store after the first seal (a backup).
    backup: dict[str, list[dict[str, Any]]]
    #: What a tampering's preparation hands to its SQL.
    state: dict[str, Any] = field(factory=dict)


def _sale(inst: Installation, meter: str) -> None:
    vend.vend(inst.svc, inst.clerk, meter, "10")


def build_scene(inst: Installation) -> Scene:
    inst.meter(A)
    inst.meter(B)
    for _ in range(3):
        _sale(inst, A)
        _sale(inst, B)
        inst.clock.advance(seconds=20)
    with contextlib.suppress(StsError):  # the refusal is in the operation log
        auth.login(inst.svc, "clerk", "999999")
    with inst.svc.store.transaction() as conn:
        write_seal(conn, LOG_KEY, inst.clock.now)
        backup = snapshot(conn)
    inst.clock.advance(seconds=5)
    _sale(inst, A)
    _sale(inst, B)
    with inst.svc.store.transaction() as conn:
        write_seal(conn, LOG_KEY, inst.clock.now)
        seal = last_seal(conn)
    assert seal is not None
    return Scene(inst, seal.mac, backup)


# -- SQL helpers an insider would use --------------------------------------------------------


def _one(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(text(sql), params).mappings().one()


def _insert(conn: Connection, table: str, values: dict[str, Any]) -> None:
    names = ", ".join(values)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES "
                      f"({', '.join(':' + k for k in values)})"), values)  # fmt: skip


def _copy(conn: Connection, table: str, row_id: int, **changes: Any) -> None:
    row = dict(_one(conn, f"SELECT * FROM {table} WHERE id = :i", i=row_id))
    row.pop("id")
    row.update(changes)
    if isinstance(row.get("detail"), dict):
        row["detail"] = json.dumps(row["detail"])
    if isinstance(row.get("result"), dict):
        row["result"] = json.dumps(row["result"])
    _insert(conn, table, row)


def _token(conn: Connection, chain: str, nth: int) -> dict[str, Any]:
    """The nth (1-based) token row of a chain."""
    rows = conn.execute(text("SELECT * FROM token_log WHERE chain = :c ORDER BY seq"),
                        {"c": chain}).mappings().all()  # fmt: skip
    return dict(rows[nth - 1])


def _last_seq(conn: Connection, chain: str) -> int:
    return int(conn.execute(text("SELECT seq FROM log_head WHERE chain = :c"),
                            {"c": chain}).scalar_one())  # fmt: skip


def _renumber(conn: Connection, chain: str, from_seq: int, by: int) -> None:
    """Shift seq of every row of the chain from ``from_seq`` on (in two steps: the unique
    constraint is checked row by row)."""
    for table in ("token_log", "sale_record"):
        conn.execute(text(f"UPDATE {table} SET seq = seq + 100000 WHERE chain = :c "
                          "AND seq >= :s"), {"c": chain, "s": from_seq})  # fmt: skip
        conn.execute(text(f"UPDATE {table} SET seq = seq - 100000 + :b WHERE chain = :c "
                          "AND seq >= 100000"), {"c": chain, "b": by})  # fmt: skip


def _drop_keys(conn: Connection, table: str) -> None:
    """Drop the table's primary key and unique constraints (what an insider does first to
    copy a row exactly)."""
    if conn.dialect.name == "postgresql":
        names = conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
            "AND contype IN ('p', 'u')"), {"t": table}).scalars().all()  # fmt: skip
        for name in names:
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}" CASCADE'))
        return
    # SQLite cannot drop a constraint: rebuild the table without any, foreign keys off.
    # (executescript commits what came before, so the pragma takes effect.)
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.executescript(
        f"PRAGMA foreign_keys = OFF; CREATE TABLE {table}_bare AS SELECT * FROM "
        f"{table}; DROP TABLE {table}; ALTER TABLE {table}_bare RENAME TO {table};"
    )
    # (foreign keys stay off on this connection: with the key gone they could not hold)


def _exact_copy(conn: Connection, table: str, row_id: int) -> None:
    _drop_keys(conn, table)
    conn.execute(text(f"INSERT INTO {table} SELECT * FROM {table} WHERE id = :i"), {"i": row_id})


def snapshot(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (what a backup holds)."""
    return {
        t.name: [dict(r) for r in conn.execute(t.select()).mappings()]
        for t in Base.metadata.sorted_tables
    }


def restore(conn: Connection, saved: dict[str, list[dict[str, Any]]]) -> None:
    """Put a backup back: every table emptied and refilled."""
    for t in reversed(Base.metadata.sorted_tables):
        conn.execute(t.delete())
    for t in Base.metadata.sorted_tables:
        if saved[t.name]:
            conn.execute(t.insert(), saved[t.name])


# -- the tamperings --------------------------------------------------------------------------


def change_token_amount(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE token_log SET amount = amount * 10 WHERE id = :i"),
              {"i": _token(c, A, 2)["id"]})  # fmt: skip


def change_token_digits(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE token_log SET digits = '11112222333344445555' WHERE id = :i"),
              {"i": _token(c, A, 1)["id"]})  # fmt: skip


def change_token_operator(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE token_log SET operator = 'supervisor' WHERE id = :i"),
              {"i": _token(c, B, 2)["id"]})  # fmt: skip


def replace_token_mac(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE token_log SET mac = :m WHERE id = :i"),
              {"m": secrets.token_bytes(32), "i": _token(c, A, 2)["id"]})  # fmt: skip


def delete_middle_token(s: Scene, c: Connection) -> None:
    c.execute(text("DELETE FROM token_log WHERE id = :i"), {"i": _token(c, A, 2)["id"]})


def delete_middle_and_renumber(s: Scene, c: Connection) -> None:
    row = _token(c, A, 2)
    c.execute(text("DELETE FROM token_log WHERE id = :i"), {"i": row["id"]})
    _renumber(c, A, row["seq"] + 1, -1)
    c.execute(text("UPDATE log_head SET seq = seq - 1 WHERE chain = :c"), {"c": A})


def insert_middle_and_renumber(s: Scene, c: Connection) -> None:
    row = _token(c, A, 2)
    _renumber(c, A, row["seq"], 1)
    c.execute(text("UPDATE log_head SET seq = seq + 1 WHERE chain = :c"), {"c": A})
    _copy(c, "token_log", row["id"], seq=row["seq"], tid=row["tid"] + 3, amount=9990,
          request_id="forged", mac=secrets.token_bytes(32))  # fmt: skip


def append_forged_token(s: Scene, c: Connection) -> None:
    row = _token(c, B, 4)
    seq = _last_seq(c, B) + 1
    mac = secrets.token_bytes(32)
    head = c.execute(text("SELECT mac FROM log_head WHERE chain = :c"), {"c": B}).scalar_one()
    _copy(c, "token_log", row["id"], seq=seq, tid=row["tid"] + 9, request_id="forged",
          prev_mac=head, mac=mac)  # fmt: skip
    c.execute(text("UPDATE log_head SET seq = :s, mac = :m WHERE chain = :c"),
              {"s": seq, "m": mac, "c": B})  # fmt: skip


def duplicate_token_row(s: Scene, c: Connection) -> None:
    _exact_copy(c, "token_log", _token(c, A, 3)["id"])


def reorder_tokens(s: Scene, c: Connection) -> None:
    first, second = _token(c, B, 1), _token(c, B, 2)
    c.execute(text("UPDATE token_log SET seq = -1 WHERE id = :i"), {"i": first["id"]})
    c.execute(text("UPDATE token_log SET seq = :s WHERE id = :i"),
              {"s": first["seq"], "i": second["id"]})  # fmt: skip
    c.execute(text("UPDATE token_log SET seq = :s WHERE id = :i"),
              {"s": second["seq"], "i": first["id"]})  # fmt: skip


def delete_sealed_tail(s: Scene, c: Connection) -> None:
    """The last sale of A (token, record, sale, ledger) goes and the head is rewound."""
    row = _token(c, A, 4)
    sale = row["sale_id"]
    for sql in ("DELETE FROM token_log WHERE chain = :c AND seq >= :s",
                "DELETE FROM sale_record WHERE chain = :c AND seq >= :s"):  # fmt: skip
        c.execute(text(sql), {"c": A, "s": row["seq"]})
    c.execute(text("DELETE FROM ledger_entry WHERE sale_id = :i"), {"i": sale})
    c.execute(text("DELETE FROM sale WHERE id = :i"), {"i": sale})
    c.execute(text("UPDATE log_head SET seq = :s, mac = :m WHERE chain = :c"),
              {"s": row["seq"] - 1, "m": row["prev_mac"], "c": A})  # fmt: skip


def delete_whole_chain(s: Scene, c: Connection) -> None:
    for table in ("token_log", "sale_record"):
        c.execute(text(f"DELETE FROM {table} WHERE chain = :c"), {"c": B})
    c.execute(text("DELETE FROM log_head WHERE chain = :c"), {"c": B})
    c.execute(text("DELETE FROM ledger_entry WHERE sale_id IN "
                   "(SELECT s.id FROM sale s JOIN meter m ON m.id = s.meter_id "
                   "WHERE m.drn = :c)"), {"c": B})  # fmt: skip
    c.execute(text("DELETE FROM sale WHERE meter_id = (SELECT id FROM meter WHERE drn = :c)"),
              {"c": B})  # fmt: skip


def change_sale_amount(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE sale SET amount = amount - 500 WHERE id = :i"),
              {"i": _token(c, A, 2)["sale_id"]})  # fmt: skip


def change_sale_tax(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE sale SET tax = 0 WHERE id = :i"), {"i": _token(c, B, 1)["sale_id"]})


def change_ledger_line(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE ledger_entry SET amount = amount - 100 WHERE id = "
                   "(SELECT min(id) FROM ledger_entry WHERE sale_id = :i)"),
              {"i": _token(c, A, 3)["sale_id"]})  # fmt: skip


def delete_ledger_line(s: Scene, c: Connection) -> None:
    c.execute(text("DELETE FROM ledger_entry WHERE id = "
                   "(SELECT max(id) FROM ledger_entry WHERE sale_id = :i)"),
              {"i": _token(c, B, 3)["sale_id"]})  # fmt: skip


def add_ledger_line(s: Scene, c: Connection) -> None:
    sale = _token(c, A, 1)["sale_id"]
    line = _one(c, "SELECT * FROM ledger_entry WHERE sale_id = :i ORDER BY id LIMIT 1", i=sale)
    _copy(c, "ledger_entry", line["id"], amount=-50, entry="energy")


def duplicate_ledger_line(s: Scene, c: Connection) -> None:
    sale = _token(c, B, 2)["sale_id"]
    line = _one(c, "SELECT id FROM ledger_entry WHERE sale_id = :i ORDER BY id LIMIT 1", i=sale)
    _exact_copy(c, "ledger_entry", line["id"])


def insert_forged_sale(s: Scene, c: Connection) -> None:
    sale = _token(c, A, 1)["sale_id"]
    new_id = int(c.execute(text("SELECT max(id) FROM sale")).scalar_one()) + 100
    _copy(c, "sale", sale, request_id="forged-sale")
    c.execute(text("UPDATE sale SET id = :n WHERE request_id = 'forged-sale'"), {"n": new_id})
    for line in c.execute(text("SELECT id FROM ledger_entry WHERE sale_id = :i"),
                          {"i": sale}).scalars().all():  # fmt: skip
        _copy(c, "ledger_entry", line, sale_id=new_id)


def duplicate_sale_row(s: Scene, c: Connection) -> None:
    _exact_copy(c, "sale", _token(c, B, 1)["sale_id"])


def delete_sale_keep_record(s: Scene, c: Connection) -> None:
    sale = _token(c, B, 2)["sale_id"]
    c.execute(text("DELETE FROM ledger_entry WHERE sale_id = :i"), {"i": sale})
    c.execute(text("DELETE FROM sale WHERE id = :i"), {"i": sale})


def delete_sale_and_record(s: Scene, c: Connection) -> None:
    sale = _token(c, A, 2)["sale_id"]
    c.execute(text("DELETE FROM sale_record WHERE sale_id = :i"), {"i": sale})
    c.execute(text("DELETE FROM ledger_entry WHERE sale_id = :i"), {"i": sale})
    c.execute(text("DELETE FROM sale WHERE id = :i"), {"i": sale})


def duplicate_sale_record(s: Scene, c: Connection) -> None:
    row = c.execute(text("SELECT min(id) FROM sale_record WHERE chain = :c"), {"c": A})
    _exact_copy(c, "sale_record", int(row.scalar_one()))


def _refused_login(c: Connection) -> int:
    return int(c.execute(text("SELECT id FROM operation_log WHERE action = 'login' AND "
                              "outcome = 'refused'")).scalar_one())  # fmt: skip


def change_oplog_outcome(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE operation_log SET outcome = 'ok' WHERE id = :i"),
              {"i": _refused_login(c)})  # fmt: skip


def delete_oplog_entry(s: Scene, c: Connection) -> None:
    c.execute(text("DELETE FROM operation_log WHERE id = :i"), {"i": _refused_login(c)})


def delete_whole_oplog(s: Scene, c: Connection) -> None:
    c.execute(text("DELETE FROM operation_log"))
    c.execute(text("DELETE FROM log_head WHERE chain LIKE 'op:%'"))


def insert_forged_oplog(s: Scene, c: Connection) -> None:
    row = _refused_login(c)
    head = _one(c, "SELECT seq, mac FROM log_head WHERE chain = 'op:clerk'")
    _copy(c, "operation_log", row, outcome="ok", seq=head["seq"] + 1, prev_mac=head["mac"],
          mac=secrets.token_bytes(32))  # fmt: skip


def unchain_oplog_entry(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE operation_log SET chain = NULL, seq = NULL, prev_mac = NULL, "
                   "mac = NULL WHERE id = :i"), {"i": _refused_login(c)})  # fmt: skip


def change_seal_entry(s: Scene, c: Connection) -> None:
    c.execute(text("UPDATE log_seal_entry SET seq = seq - 1 WHERE seal_id = "
                   "(SELECT min(id) FROM log_seal) AND chain = :c"), {"c": A})  # fmt: skip


def delete_middle_seal(s: Scene, c: Connection) -> None:
    first = int(c.execute(text("SELECT min(id) FROM log_seal")).scalar_one())
    c.execute(text("DELETE FROM log_seal_entry WHERE seal_id = :i"), {"i": first + 1})
    c.execute(text("DELETE FROM log_seal WHERE id = :i"), {"i": first + 1})


def forge_seal_entry(s: Scene, c: Connection) -> None:
    """An entry added to a seal so that the sealer would take an unsealed head as sealed."""
    seal = int(c.execute(text("SELECT min(id) FROM log_seal")).scalar_one())
    c.execute(text("DELETE FROM log_seal_entry WHERE seal_id = :s AND chain = 'op:auditor'"),
              {"s": seal})  # fmt: skip
    _insert(c, "log_seal_entry", {"seal_id": seal, "chain": "op:auditor", "seq": 99,
                                  "mac": secrets.token_bytes(32)})  # fmt: skip


def delete_newest_seal(s: Scene, c: Connection) -> None:
    newest = int(c.execute(text("SELECT max(id) FROM log_seal")).scalar_one())
    c.execute(text("DELETE FROM log_seal_entry WHERE seal_id = :i"), {"i": newest})
    c.execute(text("DELETE FROM log_seal WHERE id = :i"), {"i": newest})


def delete_all_seals(s: Scene, c: Connection) -> None:
    c.execute(text("DELETE FROM log_seal_entry"))
    c.execute(text("DELETE FROM log_seal"))
    c.execute(text("DELETE FROM log_sealed_head"))


def raise_sealer_index_first(s: Scene) -> None:
    """The sealer's bookkeeping raised, then two new sales of A sealed (the sealer must not
    trust the bookkeeping)."""
    with s.inst.svc.store.transaction() as c:
        c.execute(text("UPDATE log_sealed_head SET seq = seq + 1000"))
    _sale(s.inst, A)
    _sale(s.inst, A)
    with s.inst.svc.store.transaction() as c:
        assert write_seal(c, LOG_KEY, s.inst.clock.now) is not None


def raise_sealer_index(s: Scene, c: Connection) -> None:
    """… then their tail deleted and the head rewound."""
    delete_sealed_tail_after(c, _token(c, A, 6))


def delete_sealed_tail_after(c: Connection, row: dict[str, Any]) -> None:
    for table in ("token_log", "sale_record"):
        c.execute(text(f"DELETE FROM {table} WHERE chain = :c AND seq >= :s"),
                  {"c": row["chain"], "s": row["seq"]})  # fmt: skip
    c.execute(text("UPDATE log_head SET seq = :s, mac = :m WHERE chain = :c"),
              {"s": row["seq"] - 1, "m": row["prev_mac"], "c": row["chain"]})  # fmt: skip


def raise_boundary(s: Scene, c: Connection) -> None:
    value = json.dumps({"sale": 10**9, "operation": 10**9})
    c.execute(text("DELETE FROM setting WHERE name = 'records_protected_from'"))
    _insert(c, "setting", {"name": "records_protected_from", "value": value})


def roll_back_to_backup(s: Scene, c: Connection) -> None:
    """The whole store put back to a copy taken before the last sales (a rollback)."""
    restore(c, s.backup)


def delete_unsealed_tail_first(s: Scene) -> None:
    s.inst.clock.advance(seconds=1)  # within the sealing interval: no automatic seal
    with s.inst.svc.store.transaction() as c:
        s.state["before"] = snapshot(c)
    _sale(s.inst, B)


def delete_unsealed_tail(s: Scene, c: Connection) -> None:
    """A sale made after the newest seal, removed with everything it wrote (a limit)."""
    restore(c, s.state["before"])


@frozen
class Tampering:
    id: str
    detected: str
    run: Callable[[Scene, Connection], None]
    #: Work through the services before the SQL (in their own transactions).
    first: Callable[[Scene], None] | None = None


TAMPERINGS: tuple[Tampering, ...] = (
    Tampering("change-token-amount", "always", change_token_amount),
    Tampering("change-token-digits", "always", change_token_digits),
    Tampering("change-token-operator", "always", change_token_operator),
    Tampering("replace-token-mac", "always", replace_token_mac),
    Tampering("delete-middle-token", "always", delete_middle_token),
    Tampering("delete-middle-and-renumber", "always", delete_middle_and_renumber),
    Tampering("insert-middle-and-renumber", "always", insert_middle_and_renumber),
    Tampering("append-forged-token", "always", append_forged_token),
    Tampering("duplicate-token-row", "always", duplicate_token_row),
    Tampering("reorder-tokens", "always", reorder_tokens),
    Tampering("delete-sealed-tail", "always", delete_sealed_tail),
    Tampering("delete-whole-chain", "always", delete_whole_chain),
    Tampering("change-sale-amount", "always", change_sale_amount),
    Tampering("change-sale-tax", "always", change_sale_tax),
    Tampering("change-ledger-line", "always", change_ledger_line),
    Tampering("delete-ledger-line", "always", delete_ledger_line),
    Tampering("add-ledger-line", "always", add_ledger_line),
    Tampering("duplicate-ledger-line", "always", duplicate_ledger_line),
    Tampering("insert-forged-sale", "always", insert_forged_sale),
    Tampering("duplicate-sale-row", "always", duplicate_sale_row),
    Tampering("delete-sale-keep-record", "always", delete_sale_keep_record),
    Tampering("delete-sale-and-record", "always", delete_sale_and_record),
    Tampering("duplicate-sale-record", "always", duplicate_sale_record),
    Tampering("change-oplog-outcome", "always", change_oplog_outcome),
    Tampering("delete-oplog-entry", "always", delete_oplog_entry),
    Tampering("delete-whole-oplog", "always", delete_whole_oplog),
    Tampering("insert-forged-oplog", "always", insert_forged_oplog),
    Tampering("unchain-oplog-entry", "always", unchain_oplog_entry),
    Tampering("change-seal-entry", "always", change_seal_entry),
    Tampering("delete-middle-seal", "always", delete_middle_seal),
    Tampering("forge-seal-entry", "always", forge_seal_entry),
    Tampering("raise-sealer-index", "always", raise_sealer_index, raise_sealer_index_first),
    Tampering("raise-boundary", "always", raise_boundary),
    Tampering("delete-newest-seal", "anchor", delete_newest_seal),
    Tampering("delete-all-seals", "anchor", delete_all_seals),
    Tampering("roll-back-to-backup", "anchor", roll_back_to_backup),
    Tampering("delete-unsealed-tail", "never", delete_unsealed_tail, delete_unsealed_tail_first),
)
