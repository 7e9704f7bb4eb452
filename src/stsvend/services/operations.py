"""The operation log for auditors: list it, export it (CSV / JSON lines, with a manifest).

Reading the operation log takes the right to export the token log (supervisors, auditors:
``docs/security.md``).  Every listing and export is itself an entry of the operation log
(action ``log.operations``: the filter, the format and the count; never token digits, PINs or
keys, which the operation log does not hold).  The answers are frozen values
(:class:`OperationsListing`, :class:`OperationsExport`).

>>> from stsvend.tokenlog.op_reader import OpFilter
>>> ACTION, OpFilter(operator="ann", actions=("login",)).as_dict()
('log.operations', {'operator': 'ann', 'actions': ['login']})
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import attrs

from stsvend.errors import StsError
from stsvend.files import OutputFileError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.manifest import (
    Anchor,
    Coverage,
    DigestWriter,
    ExportFacts,
    FilterDoc,
    seal_now,
    sealed_heads,
)
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

__all__ = [
    "ACTION",
    "OperationEntry",
    "OperationsExport",
    "OperationsListing",
    "export_operations",
    "list_operations",
]

#: The operation log's own action for a listing or an export of it.
ACTION = "log.operations"


@attrs.frozen
class OperationEntry:
    """One entry of the operation log, as a listing shows it."""

    #: The entry's id (its order of writing).
    id: int
    #: When (ISO 8601, UTC).
    at: str
    #: Who (operator name).
    operator: str
    #: Where (terminal name).
    terminal: str
    #: What: ``login``, ``log.export``, ``operators.add``...
    action: str
    #: ``ok``, ``refused``, ``failed`` or ``findings``.
    outcome: str
    #: What it was done to (a meter, an operator, a shift...), None if nothing in particular.
    target: str | None
    #: The action's particulars (never token digits, PINs or keys).
    detail: Mapping[str, object]
    #: The chain it is in (per operator), None while pending the next seal.
    chain: str | None
    #: Its number in that chain, None while pending.
    seq: int | None
    #: Its MAC under the log key (hexadecimal), None while pending.
    mac: str | None

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> OperationEntry:
        """From the operation log reader's row."""
        return cls(**{f.name: entry[f.name] for f in attrs.fields(cls)})


@attrs.frozen
class OperationsListing:
    """The entries a filter selects (the newest so many)."""

    #: The filter the entries answer.
    filter: FilterDoc
    #: How many entries the filter selects.
    count: int
    #: How many are shown (at most the limit).
    shown: int
    #: The entries shown, oldest first.
    operations: tuple[OperationEntry, ...]


@attrs.frozen
class OperationsExport(ExportFacts):
    """An export of the operation log with what its manifest states."""

    #: Which log: always ``operation-log``.
    kind: str = "operation-log"

    def manifest_kind(self) -> str:
        return self.kind


def _record(svc: Services, actor: Actor, conn: Any, detail: dict[str, Any], outcome: str) -> None:
    log_operation(conn, at=svc.now(), operator=actor.username, terminal=actor.terminal,
                  action=ACTION, outcome=outcome, detail=detail)  # fmt: skip


def list_operations(
    svc: Services, actor: Actor, where: OpFilter, *, limit: int | None = None
) -> OperationsListing:
    """The entries ``where`` selects, oldest first; with ``limit``, the newest that many.

    ``count`` is how many matched, ``operations`` the entries shown (this listing's own entry
    is written after it is read, so it shows in the next one).
    """
    authorize(svc, actor, Action.LOG_EXPORT)
    with svc.store.transaction() as conn:
        count = count_operations(conn, where)
        shown = tuple(OperationEntry.of(e) for e in iter_operations(conn, where, newest=limit))
        _record(svc, actor, conn, {"format": "list", "filter": where.as_dict(),
                                   "rows": len(shown)}, "ok")  # fmt: skip
    return OperationsListing(filter=where.as_dict(), count=count, shown=len(shown),
                             operations=shown)  # fmt: skip


def export_operations(
    svc: Services, actor: Actor, where: OpFilter, out: TextSink, *, fmt: str
) -> OperationsExport:
    """Write the entries ``where`` selects to ``out``; the answer holds what a manifest states
    (digest, size, the newest seal; operation-log entries are chained per operator and sealed
    like token rows, ``docs/token-log.md``)."""
    authorize(svc, actor, Action.LOG_EXPORT)
    detail: dict[str, Any] = {"format": fmt, "filter": where.as_dict()}
    seal_now(svc)  # pending entries are chained by a seal: the anchor then covers them too
    stream = DigestWriter(out)
    try:
        with svc.store.transaction() as conn:
            last = last_seal(conn)
            coverage = Coverage({} if last is None else sealed_heads(conn, last.seal_id))
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
    return OperationsExport(
        rows=count, format=fmt, filter=where.as_dict(), sha256=stream.hexdigest(),
        bytes=stream.size, anchor=None if last is None else Anchor.of(last),
        covered=coverage.covered, made_at=now.isoformat(), operator=actor.username,
        terminal=actor.terminal,
    )  # fmt: skip


def _failed(svc: Services, actor: Actor, detail: dict[str, Any], error: StsError) -> None:
    with contextlib.suppress(StsError), svc.store.transaction() as conn:
        _record(svc, actor, conn, {**detail, "error": error.code}, "failed")
