"""A worker process for the request id race tests (run with multiprocessing "spawn").

Each worker opens its own store, logs in, waits for the others at a barrier, and sends one
request.  On PostgreSQL it can also wait at a second barrier just before its sale's INSERT, so
that every worker has passed its replay check before any of them writes: the race the
database's unique constraint on the request id decides.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from stsvend.errors import StsError
from stsvend.services import auth, engineering, receipts, vend
from stsvend.services.context import Services
from stsvend.store.uow import Store
from tests.services.helpers import LOG_KEY, PINS, config, hsm

#: (operation, role, positional arguments, request id)
Task = tuple[str, str, tuple[Any, ...], str]


def _wait_before_sale_insert(barrier: Any) -> None:
    """Make the first INSERT INTO sale of this process wait for the other workers' (or give up
    after a few seconds: a worker queued behind this one's lock never gets there)."""
    import psycopg

    done = threading.Event()
    for name in ("execute", "executemany"):
        original = getattr(psycopg.Cursor, name)

        def wrapped(self: Any, query: Any, *args: Any, _original: Any = original,
                    **kwargs: Any) -> Any:  # fmt: skip
            if (not done.is_set() and isinstance(query, str)
                    and query.lstrip().upper().startswith("INSERT INTO SALE ")):  # fmt: skip
                done.set()
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=3)
            return _original(self, query, *args, **kwargs)

        setattr(psycopg.Cursor, name, wrapped)


def run(url: str, task: Task, start: Any, at_insert: Any, out: Any) -> None:
    op, role, args, request_id = task
    svc = Services(Store.open(url), config(), hsm=hsm(), log_key=LOG_KEY)
    try:
        actor = auth.login(svc, role, PINS[role])
        if at_insert is not None:
            _wait_before_sale_insert(at_insert)
        start.wait(timeout=60)
        try:
            if op == "vend":
                result = vend.vend(svc, actor, *args, request_id=request_id)
            elif op == "test":
                control, drn = args
                result = engineering.issue_test_token(svc, actor, control, drn=drn,
                                                      request_id=request_id)  # fmt: skip
            elif op == "reverse":
                result = receipts.reverse(svc, actor, *args, request_id=request_id)
            else:
                raise AssertionError(op)
        except StsError as exc:
            out.put(("error", exc.code, exc.message))
            return
        # A reversal names the tokens it marks without their digits.
        digits = tuple(t.digits for t in result.tokens)
        out.put(("ok", result.receipt, result.replayed, digits))
    except BaseException as exc:  # reported to the test, which fails on any
        out.put(("crash", f"{type(exc).__name__}: {exc}", None, None))
    finally:
        svc.store.dispose()
