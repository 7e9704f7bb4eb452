"""The client's outbox: confirmation and reversal advices kept on disk until the server has
given its final answer.

An advice is written (and committed) before it is first sent, so a client that stops — a
crash, a power cut, a restart — loses none: the next client on the same file sends it again.
The server answers an advice it already has with the same answer, so sending one twice is
harmless.  One SQLite file (the standard library's :mod:`sqlite3`), path chosen by the caller;
``None`` keeps the outbox in memory, for a client that need not survive its process.

>>> box = Outbox(None)
>>> first = box.add("p-1", "confirmation", {})
>>> box.add("p-1", "confirmation", {}) == first   # one advice of a kind per purchase
True
>>> [(e.purchase_id, e.advice, e.state) for e in box.pending()]
[('p-1', 'confirmation', 'pending')]
>>> box.settle(first, "done", answer={"state": "confirmed"})
>>> box.pending(), box.entry(first).state
([], 'done')
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Literal

from attrs import frozen

__all__ = ["ADVICES", "Outbox", "OutboxEntry"]

#: The advices a client sends, and the path each goes to under /v1/purchases/{id}/.
ADVICES = {"confirmation": "confirm", "reversal": "reverse"}

State = Literal["pending", "done", "failed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS advice (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    purchase_id TEXT NOT NULL,
    advice TEXT NOT NULL CHECK (advice IN ('confirmation', 'reversal')),
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    code TEXT,
    status INTEGER,
    answer TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    UNIQUE (purchase_id, advice)
)
"""


@frozen
class OutboxEntry:
    """One advice in the outbox."""

    id: int
    purchase_id: str
    advice: str
    body: dict[str, Any]
    #: pending (to be sent), done (the server accepted it), failed (refused for good).
    state: str
    #: How many times it was sent.
    attempts: int
    #: The refusal's code and status (failed).
    code: str | None
    status: int | None
    #: The server's answer (done).
    answer: dict[str, Any] | None


class Outbox:
    """The advices of one client, in a SQLite file (created mode 0600) or in memory."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None and not self.path.exists():
            # Created by us, readable by the owner only; it names purchases and reasons.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        # One connection, used under a lock: a client may be called from several threads.
        self._conn = sqlite3.connect(
            ":memory:" if self.path is None else str(self.path), timeout=10,
            check_same_thread=False, isolation_level=None,
        )  # fmt: skip
        self._lock = threading.Lock()
        with self._lock:
            if self.path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
            # An advice is on the disk when add() returns, even after a power cut.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(self, purchase_id: str, advice: str, body: dict[str, Any]) -> int:
        """Keep an advice (committed before this returns) and give its id; an advice of the same
        kind for the same purchase is the one already kept."""
        if advice not in ADVICES:
            raise ValueError(f"no such advice: {advice!r}")
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO advice (purchase_id, advice, body, created, updated) "
                "VALUES (?, ?, ?, ?, ?)", (purchase_id, advice, json.dumps(body), now, now),
            )  # fmt: skip
            row = self._conn.execute(
                "SELECT id FROM advice WHERE purchase_id = ? AND advice = ?", (purchase_id, advice)
            ).fetchone()
        return int(row[0])

    def sent(self, entry_id: int) -> None:
        """Count one sending of the advice (before it goes out)."""
        with self._lock:
            self._conn.execute("UPDATE advice SET attempts = attempts + 1, updated = ? "
                               "WHERE id = ?", (time.time(), entry_id))  # fmt: skip

    def settle(
        self, entry_id: int, state: Literal["done", "failed"], *, code: str | None = None,
        status: int | None = None, answer: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Record the server's final answer: the advice is sent no more."""
        with self._lock:
            self._conn.execute(
                "UPDATE advice SET state = ?, code = ?, status = ?, answer = ?, updated = ? "
                "WHERE id = ?",
                (state, code, status, None if answer is None else json.dumps(answer),
                 time.time(), entry_id),
            )  # fmt: skip

    def pending(self, limit: int | None = None) -> list[OutboxEntry]:
        """The advices still to be sent, oldest first."""
        return self._select("WHERE state = 'pending' ORDER BY id" +
                            ("" if limit is None else f" LIMIT {int(limit)}"))  # fmt: skip

    def entries(self) -> list[OutboxEntry]:
        """Every advice kept, oldest first."""
        return self._select("ORDER BY id")

    def entry(self, entry_id: int) -> OutboxEntry:
        found = self._select("WHERE id = ?", (entry_id,))
        if not found:
            raise KeyError(entry_id)
        return found[0]

    def _select(self, where: str, params: tuple[Any, ...] = ()) -> list[OutboxEntry]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, purchase_id, advice, body, state, attempts, code, status, answer "
                f"FROM advice {where}", params).fetchall()  # fmt: skip
        return [OutboxEntry(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7],
                            None if r[8] is None else json.loads(r[8])) for r in rows]  # fmt: skip
