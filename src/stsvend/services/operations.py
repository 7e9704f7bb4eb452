"""The operation log for auditors: list it, export it (CSV / JSON lines, with a manifest).

Reading the operation log takes the right to export the token log (supervisors, auditors:
``docs/security.md``).  Every listing and export is itself an entry of the operation log
(action ``log.operations``: the filter, the format and the count; never token digits, PINs or
keys, which the operation log does not hold).

>>> from stsvend.tokenlog.op_reader import OpFilter
>>> ACTION, OpFilter(operator="ann", actions=("login",)).as_dict()
('log.operations', {'operator': 'ann', 'actions': ['login']})
"""

from __future__ import annotations

from typing import Any

from stsvend.errors import StsError
from stsvend.files import OutputFileError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.manifest import Coverage, DigestWriter, seal_now, sealed_heads
from stsvend.store.repos.oplog import log_operation
from stsvend.tokenlog.op_reader import (
    OpFilter,
    count_operations,
    iter_operations,
    write_operations,
)
from stsvend.tokenlog.reader import TextSink
from stsvend.tokenlog.writer import last_seal
from stsvend.vending.roles import Action

__all__ = ["ACTION", "export_operations", "list_operations"]

#: The operation log's own action for a listing or an export of it.
ACTION = "log.operations"


def _record(svc: Services, actor: Actor, conn: Any, detail: dict[str, Any], outcome: str) -> None:
    log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                  action=ACTION, outcome=outcome, detail=detail)  # fmt: skip


def list_operations(
    svc: Services, actor: Actor, where: OpFilter, *, limit: int | None = None
) -> dict[str, Any]:
    """The entries ``where`` selects, oldest first; with ``limit``, the newest that many.

    ``count`` is how many matched, ``operations`` the entries shown (this listing's own entry
    is written after it is read, so it shows in the next one).
    """
    authorize(svc, actor, Action.LOG_EXPORT)
    with svc.store.transaction() as conn:
        count = count_operations(conn, where)
        shown = list(iter_operations(conn, where, newest=limit))
        _record(svc, actor, conn, {"format": "list", "filter": where.as_dict(),
                                   "rows": len(shown)}, "ok")  # fmt: skip
    return {"filter": where.as_dict(), "count": count, "shown": len(shown),
            "operations": shown}  # fmt: skip


def export_operations(
    svc: Services, actor: Actor, where: OpFilter, out: TextSink, *, fmt: str
) -> dict[str, Any]:
    """Write the entries ``where`` selects to ``out``; the answer holds what a manifest states
    (digest, size, the newest seal; operation-log entries are chained per operator and sealed
    like token rows, ``docs/token-log.md``)."""
    authorize(svc, actor, Action.LOG_EXPORT)
    detail: dict[str, Any] = {"format": fmt, "filter": where.as_dict()}
    seal_now(svc)  # pending entries are chained by a seal: the anchor then covers them too
    stream = DigestWriter(out)
    try:
        with svc.store.transaction() as conn:
            anchor = last_seal(conn)
            coverage = Coverage({} if anchor is None else sealed_heads(conn, anchor.seal_id))
            count = write_operations(conn, where, stream, fmt=fmt, on_row=coverage)
            now = svc.now()
            _record(svc, actor, conn, {**detail, "rows": count, "sha256": stream.hexdigest()},
                    "ok")  # fmt: skip
    except OSError as exc:
        error = OutputFileError(f"cannot write the export: {exc.strerror}")
        _failed(svc, actor, detail, error)
        raise error from None
    except StsError as exc:
        _failed(svc, actor, detail, exc)
        raise
    return {
        "kind": "operation-log",
        "rows": count,
        "format": fmt,
        "filter": where.as_dict(),
        "sha256": stream.hexdigest(),
        "bytes": stream.size,
        "anchor": None if anchor is None else {
            "seal": anchor.seal_id, "mac": anchor.mac.hex(), "at": anchor.at.isoformat()},
        "covered": coverage.covered,
        "made_at": now.isoformat(),
        "operator": actor.username,
        "terminal": actor.terminal,
    }  # fmt: skip


def _failed(svc: Services, actor: Actor, detail: dict[str, Any], error: StsError) -> None:
    import contextlib

    with contextlib.suppress(StsError), svc.store.transaction() as conn:
        _record(svc, actor, conn, {**detail, "error": error.code}, "failed")
