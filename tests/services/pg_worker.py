"""Worker processes for the concurrency and crash tests (run with multiprocessing "spawn").

Each opens its own store and security module, as a separate terminal process would.
"""

from __future__ import annotations

import os
import random
from typing import Any

from sqlalchemy import event

from stsvend.services import auth, keychange, vend
from stsvend.services.context import Services
from stsvend.store.uow import Store
from tests.services.helpers import LOG_KEY, PINS, config, hsm

KILLED = 3


def _services(url: str) -> Services:
    return Services(Store.open(url), config(), hsm=hsm(), log_key=LOG_KEY)


def vend_many(url: str, meters: list[str], count: int, seed: int) -> list[str]:
    """``count`` vends spread over ``meters``; returns the errors (none expected)."""
    svc = _services(url)
    actor = auth.login(svc, "clerk", PINS["clerk"])
    rng = random.Random(seed)
    errors: list[str] = []
    for i in range(count):
        try:
            amount = f"{rng.randint(2, 40)}.{rng.randint(0, 99):02d}"
            vend.vend(svc, actor, rng.choice(meters), amount, request_id=f"w{seed}-{i}")
        except Exception as exc:  # reported to the test, which fails on any
            errors.append(f"{type(exc).__name__}: {exc}")
    svc.store.dispose()
    return errors


def _on_each_statement(svc: Services, hook: Any) -> None:
    """Call ``hook()`` before every SQL statement.  On PostgreSQL at the driver's cursor, so
    that statements sent in pipeline mode (which bypass SQLAlchemy's events) count too."""
    if svc.store.dialect == "postgresql":
        import psycopg

        for name in ("execute", "executemany"):
            original = getattr(psycopg.Cursor, name)

            def wrapped(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
                hook()
                return _original(self, *args, **kwargs)

            setattr(psycopg.Cursor, name, wrapped)
    else:
        event.listen(svc.store.engine, "before_cursor_execute", lambda *_: hook())


def _die_at(svc: Services, statement: int, *, on_commit: bool = False) -> None:
    """Kill this process (no cleanup, no rollback) at the n-th SQL statement, or at COMMIT."""
    seen = {"n": 0}

    def count() -> None:
        seen["n"] += 1
        if not on_commit and seen["n"] == statement:
            os._exit(KILLED)

    _on_each_statement(svc, count)
    if not on_commit:
        return
    if svc.store.dialect == "postgresql":
        # The vend sends COMMIT itself, in its last round trip: die just before it.
        import psycopg

        def die(*_: Any, **__: Any) -> None:
            os._exit(KILLED)

        psycopg.Connection.commit = die  # type: ignore[method-assign]
    else:

        @event.listens_for(svc.store.engine, "commit")
        def _commit(*_: Any) -> None:
            os._exit(KILLED)


def statements_of_one_vend(url: str, meter: str) -> tuple[int, int]:
    """(statements inside the vend's transaction, statements in all, the seal included)."""
    svc = _services(url)
    actor = auth.login(svc, "clerk", PINS["clerk"])
    seen = {"n": 0, "at_commit": 0}

    def count() -> None:
        seen["n"] += 1

    _on_each_statement(svc, count)

    if svc.store.dialect == "postgresql":
        import psycopg

        original = psycopg.Connection.commit

        def commit(self: Any) -> None:
            seen["at_commit"] = seen["at_commit"] or seen["n"]
            original(self)

        psycopg.Connection.commit = commit  # type: ignore[method-assign]
    else:

        @event.listens_for(svc.store.engine, "commit")
        def _commit(*_: Any) -> None:
            seen["at_commit"] = seen["at_commit"] or seen["n"]

    vend.vend(svc, actor, meter, "10")
    svc.store.dispose()
    return seen["at_commit"], seen["n"]


def vend_and_die(url: str, meter: str, statement: int, on_commit: bool) -> None:
    svc = _services(url)
    actor = auth.login(svc, "clerk", PINS["clerk"])
    _die_at(svc, statement, on_commit=on_commit)
    vend.vend(svc, actor, meter, "10", request_id=f"doomed-{meter}-{statement}-{on_commit}")
    os._exit(0)  # got through: the statement count was past the end


def run_job_and_die(url: str, job_id: int, statement: int) -> None:
    svc = _services(url)
    actor = auth.login(svc, "engineer", PINS["engineer"])
    _die_at(svc, statement)
    keychange.run_job(svc, actor, job_id, batch_size=10)
    os._exit(0)
