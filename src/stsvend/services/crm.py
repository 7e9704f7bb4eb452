"""CRM master data, pseudonymised: customers, contracts, premises and meters from the CRM.

The rows come from a CRM adapter (group ``stsvend.crm_importers``: ``csv``, ``isu``, ``ise``)
as a :class:`CrmSource`; this service checks each (:func:`stsvend.services.crm_rows.check`)
and applies them in chunks, each chunk one transaction (:mod:`stsvend.services.crm_apply`):

* a contract new to stsvend opens an account (its customer is created if new); a meter new
  to stsvend joins the supply group of the row (a mapped ``supply_group`` column) or of the
  import, registered on its default key with its commissioning key change pending, as
  ``stsvend meters add --default-key`` does;
* a contract whose tariff, meter, customer, premise or other CRM numbers changed is updated;
  a contract whose customer moved out (move-out date today or earlier) is closed, its
  balances kept;
* anything else is unchanged: a re-import of the same file changes nothing.

Only identifiers are kept; a value that looks like personal data rejects its row, and no reason
repeats a value.  A rejected row writes nothing and never stops the others.  Every import is in
the operation log with its counts (never a value).

>>> rows = list(chunked(iter(range(7)), 3))
>>> rows
[[0, 1, 2], [3, 4, 5], [6]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from itertools import islice
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from stsvend.errors import InputError, StsError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.crm_apply import ChunkCounts, ImportContext, apply_chunk
from stsvend.services.crm_results import CrmImportReport, Rejection
from stsvend.services.crm_rows import CrmRecord, CrmRow, RowRejected, check
from stsvend.services.registry import check_keyset_mode
from stsvend.store.errors import RecordNotFoundError, StorageError
from stsvend.store.repos import accounts as acc
from stsvend.store.repos import groups as grp
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = [
    "CHUNK",
    "CrmImportReport",
    "CrmSource",
    "ProgressFn",
    "Rejection",
    "chunked",
    "import_crm",
]

#: Rows per chunk (one transaction, one lookup per table).
CHUNK = 5000
#: Told after each chunk: the data rows read so far.
ProgressFn = Callable[[int], None]
T = TypeVar("T")
_CONFLICT = "conflicts with a record another process stored meanwhile: import it again"


class CrmSource(Protocol):
    """What a CRM adapter hands the service: its rows, mapped, and what it left out."""

    #: The adapter's name (``isu``, …), for the report and the log.
    format: str

    @property
    def dropped(self) -> tuple[str, ...]:
        """The file's columns no mapping uses (known once the header is read)."""
        ...

    def rows(self) -> Iterator[CrmRow | RowRejected]: ...


def chunked(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


def import_crm(
    svc: Services,
    actor: Actor,
    source: CrmSource,
    *,
    supply_group: int | None = None,
    chunk: int = CHUNK,
    progress: ProgressFn | None = None,
) -> CrmImportReport:
    """Import the CRM rows of ``source``; see the module's description."""
    authorize(svc, actor, Action.CUSTOMERS_MANAGE)
    authorize(svc, actor, Action.METERS_IMPORT)
    now = svc.now()
    with svc.store.transaction() as conn:
        check_keyset_mode(svc, conn)
        tariffs = {t.code: t.id for t in acc.list_tariffs(conn)}
        if supply_group is not None:
            try:
                grp.get_group(conn, supply_group)
            except RecordNotFoundError:
                raise InputError(f"supply group {supply_group:06d} is not registered") from None
    ctx = ImportContext(
        now=now, today=now.astimezone(ZoneInfo(svc.config.timezone)).date(),
        request_id=f"crm-import:{svc.new_request_id()}", tariffs=tariffs,
        supply_group=supply_group,
    )  # fmt: skip
    total = ChunkCounts()
    rows = 0
    try:
        for batch in chunked(source.rows(), chunk):
            rows += len(batch)
            records: list[CrmRecord] = []
            for item in batch:
                checked = check(item) if isinstance(item, CrmRow) else item
                if isinstance(checked, RowRejected):
                    total.rejections.append(Rejection(checked.line, checked.reason))
                else:
                    records.append(checked)
            _add(total, _apply(svc, actor, ctx, records))
            if progress is not None:
                progress(rows)
    except StsError:
        _log(svc, actor, source, total, rows, "failed")
        raise
    _log(svc, actor, source, total, rows, "ok")
    return CrmImportReport(
        format=source.format, rows=rows, created=total.created, changed=total.changed,
        unchanged=total.unchanged, rejected=len(total.rejections),
        meters_added=total.meters_added, closed=total.closed, dropped_columns=source.dropped,
        rejections=tuple(sorted(total.rejections, key=lambda r: r.line)),
    )  # fmt: skip


def _apply(
    svc: Services, actor: Actor, ctx: ImportContext, records: list[CrmRecord]
) -> ChunkCounts:
    """The chunk in one transaction; if the database refuses it (another process stored a
    record of the chunk meanwhile), each record alone, so that the others still go in."""
    try:
        with svc.store.transaction() as conn:
            return apply_chunk(svc, conn, actor, ctx, records)
    except StorageError:
        if len(records) == 1:
            return ChunkCounts(rejections=[Rejection(records[0].line, _CONFLICT)])
    total = ChunkCounts()
    for record in records:
        _add(total, _apply(svc, actor, ctx, [record]))
    return total


def _add(total: ChunkCounts, part: ChunkCounts) -> None:
    total.created += part.created
    total.changed += part.changed
    total.unchanged += part.unchanged
    total.meters_added += part.meters_added
    total.closed += part.closed
    total.rejections.extend(part.rejections)


def _log(
    svc: Services, actor: Actor, source: CrmSource, total: ChunkCounts, rows: int, outcome: str
) -> None:
    detail = {
        "format": source.format, "rows": rows, "created": total.created,
        "changed": total.changed, "unchanged": total.unchanged,
        "rejected": len(total.rejections), "meters_added": total.meters_added,
        "closed": total.closed, "dropped_columns": len(source.dropped),
    }  # fmt: skip
    with svc.store.transaction() as conn:
        log_operation(conn, at=svc.now().astimezone(UTC), operator=actor.username,
                      terminal=actor.terminal, action="crm.import", outcome=outcome,
                      detail=detail)  # fmt: skip
