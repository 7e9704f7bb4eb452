"""Chain heads: the last (seq, MAC) of each chain, locked by whoever appends to the chain.

A meter's head is only ever contended by work on the same meter (the services lock the meter
row first); an operator's operation-log head only by that operator's own operations.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from stsvend.store.base import table_of
from stsvend.store.models import LogHead
from stsvend.store.sql import insert_ignore
from stsvend.tokenlog.chain import GENESIS

__all__ = ["MOVE_HEADS", "lock_heads"]

_HEADS = table_of(LogHead)

# Built once: these run on every vend.
_SELECT_HEADS = (
    select(LogHead.chain, LogHead.seq, LogHead.mac)
    .where(LogHead.chain.in_(bindparam("chains", expanding=True)))
    .with_for_update()
)
#: Move heads: parameters ``c`` (chain), ``s`` (seq), ``m`` (MAC).
MOVE_HEADS = (
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("c"))
    .values(seq=bindparam("s"), mac=bindparam("m"))
)


def lock_heads(conn: Connection, chains: Sequence[str]) -> dict[str, tuple[int, bytes]]:
    """Read and lock the heads of ``chains`` (created empty when missing) until commit."""
    rows = conn.execute(_SELECT_HEADS, {"chains": list(chains)})
    heads = {r.chain: (r.seq, r.mac) for r in rows}
    missing = [c for c in chains if c not in heads]
    if missing:  # a chain's first row: create its head (another writer may race us to it)
        conn.execute(
            insert_ignore(conn.dialect, _HEADS, ["chain"]),
            [{"chain": c, "seq": 0, "mac": GENESIS} for c in missing],
        )
        rows = conn.execute(_SELECT_HEADS, {"chains": missing})
        heads.update({r.chain: (r.seq, r.mac) for r in rows})
    return heads
