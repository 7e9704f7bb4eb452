"""Import meters, their key state and last TIDs from a previous vending system (CSV).

The file has a header row; columns (``drn`` and ``sgc`` required)::

    drn, iin, resource, sgc, krn, ti, key_type, ea, base_date, ken, last_tid

Every row is checked first; if any row is wrong nothing is imported and every problem is listed
with the line number an editor shows (``ImportError_.problems``, one ``"line N: …"`` each; the
command prints one per line). Then, in one transaction: a new meter is registered with that key
data and last TID; a meter already here keeps the higher of the two last TIDs (a TID never goes
back) and takes the file's key data only if stsvend has issued it no token yet. A meter put on a
key revision that its supply group has left by a group key change is imported with a warning (in
``warnings``) naming the catch-up command that moves it on. ``base_date`` defaults to 2014.

>>> text = "drn,sgc,krn,ti,key_type,base_date,last_tid\\n01234567897,123456,1,1,2,2014,100\\n"
>>> rows = parse_rows(text)
>>> rows[0].drn, rows[0].key_data.base_date, rows[0].last_tid
('01234567897', <BaseDate.Y2014: 2014>, 100)

The answer counts rows; its JSON form has ``warnings`` only when there are some:

>>> from stsvend.services.results import as_doc
>>> as_doc(MeterImport(2, 1, 1)), MeterImport(2, 1, 1).warning_lines()
({'rows': 2, 'added': 1, 'updated': 1}, ())
>>> as_doc(MeterImportWarned(1, 0, 1, ("line 2: …",)))
{'rows': 1, 'added': 0, 'updated': 1, 'warnings': ['line 2: …']}
"""

from __future__ import annotations

import csv
import io

from attrs import frozen
from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend import sts
from stsvend.errors import InputError, StsError
from stsvend.plaintext import parse_whole
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.registry import check_keyset_mode
from stsvend.store.errors import RecordNotFoundError
from stsvend.store.models import TokenLog
from stsvend.store.repos import groups as grp
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos import meters as mtr
from stsvend.store.repos.oplog import log_operation
from stsvend.tokenlog.writer import open_chains
from stsvend.vending.roles import Action

__all__ = [
    "ImportError_",
    "ImportRow",
    "MeterImport",
    "MeterImportWarned",
    "import_meters",
    "parse_rows",
]

_REQUIRED = ("drn", "sgc")
_KNOWN = ("drn", "iin", "resource", "sgc", "krn", "ti", "key_type", "ea", "base_date", "ken",
          "last_tid")  # fmt: skip
_RESOURCES = {r.name.lower(): r for r in sts.Resource}


class ImportError_(InputError):  # not the builtin ImportError
    """The file has problems; ``problems`` lists each with its line."""

    code = "input"
    default_message = "the import file has errors: nothing was imported"

    def __init__(self, message: str | None = None, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@frozen
class ImportRow:
    line: int
    drn: str
    iin: str
    resource: sts.Resource
    key_data: sts.KeyData
    last_tid: int | None


@frozen
class MeterImport:
    """What an import did (all rows were imported, or none)."""

    #: The file's rows.
    rows: int
    #: Meters registered by the import.
    added: int
    #: Meters already here whose key data or last TID the import brought up to date.
    updated: int

    def warning_lines(self) -> tuple[str, ...]:
        """The warnings (none here: see :class:`MeterImportWarned`)."""
        return ()


@frozen
class MeterImportWarned(MeterImport):
    """An import with warnings: meters put on a key revision their supply group has left."""

    #: One line per meter behind its group, naming the catch-up command that moves it on.
    warnings: tuple[str, ...]

    def warning_lines(self) -> tuple[str, ...]:
        return self.warnings


def _row(line: int, raw: dict[str, str]) -> ImportRow:
    def get(name: str, default: str | None = None) -> str | None:
        value = (raw.get(name) or "").strip()
        return value or default

    identity = sts.MeterIdentity.parse(get("iin"), get("drn") or "")
    resource_name = (get("resource", "electricity") or "").lower()
    if resource_name not in _RESOURCES:
        raise InputError(f"resource must be one of {', '.join(_RESOURCES)}")
    data = sts.KeyData(
        sgc=get("sgc"),
        ti=get("ti", "1"),
        krn=get("krn", "1"),
        key_type=get("key_type", "2"),
        ea=get("ea", "07"),
        base_date=get("base_date", "2014"),
        ken=get("ken", "255"),
    )
    tid_text = get("last_tid")
    last_tid = None
    if tid_text is not None:
        last_tid = parse_whole(tid_text, "last_tid", 0, sts.TID_MAX)
    return ImportRow(line, identity.drn, identity.iin, _RESOURCES[resource_name], data, last_tid)


def parse_rows(text: str) -> list[ImportRow]:
    """Check every row; raise :class:`ImportError_` listing all problems, or return the rows."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ImportError_(f"the header (line 1) is not CSV: {exc}") from None
    missing = [name for name in _REQUIRED if name not in header]
    unknown = [name for name in header if name not in _KNOWN]
    if missing or unknown:
        message = (
            f"the header needs {', '.join(_REQUIRED)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown column(s) {', '.join(unknown)}" if unknown else "")
        )
        raise ImportError_(message)  # one problem, of the header: the message says it
    rows: list[ImportRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    records = iter(reader)
    while True:
        try:
            raw = next(records)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot go past a malformed record: say where, and stop there.
            problems.append(f"line {reader.line_num}: not CSV ({exc})")
            break
        # line_num is the file line the record ends on: blank lines and quoted line breaks
        # before it are counted, so the number is the one an editor shows.
        line = reader.line_num
        if None in raw:  # DictReader keeps values beyond the header under the key None
            extra = len(raw[None])
            problems.append(f"line {line}: {len(header) + extra} values for {len(header)} columns")
            continue
        clean = {(k or "").strip(): v for k, v in raw.items()}
        try:
            row = _row(line, clean)
        except StsError as exc:
            problems.append(f"line {line}: {exc.message}")
            continue
        if row.drn in seen:
            problems.append(f"line {line}: meter {row.drn} appears twice (first on line "
                            f"{seen[row.drn]})")  # fmt: skip
            continue
        seen[row.drn] = line
        rows.append(row)
    if problems:
        raise ImportError_(f"{len(problems)} row(s) have errors; nothing was imported", problems)
    return rows


def import_meters(svc: Services, actor: Actor, text: str) -> MeterImport:
    """Import the CSV ``text`` (all or nothing); returns counts (and warnings, if any)."""
    authorize(svc, actor, Action.METERS_IMPORT)
    rows = parse_rows(text)
    now = svc.now()
    added = updated = 0
    problems: list[str] = []
    warnings: list[str] = []
    groups: dict[int, tuple[grp.SupplyGroupRecord, kc.JobRecord] | None] = {}
    with svc.store.transaction() as conn:
        check_keyset_mode(svc, conn)
        for row in rows:
            try:
                dkga = svc.hsm.key_record_for(row.key_data).dkga.value
            except StsError as exc:
                problems.append(f"line {row.line}: {exc.message}")
                continue
            try:
                meter = mtr.get_meter(conn, row.drn, lock=True)
            except RecordNotFoundError:
                meter = mtr.add_meter(
                    conn,
                    sts.MeterIdentity(row.iin, row.drn),
                    row.resource,
                    row.key_data,
                    dkga,
                    now,
                )
                open_chains(conn, [meter.drn])
                added += 1
            else:
                if meter.key_data != row.key_data:
                    issued = conn.execute(
                        select(TokenLog.id).where(TokenLog.meter == meter.drn).limit(1)
                    ).first()
                    if issued is not None:
                        problems.append(
                            f"line {row.line}: meter {row.drn} already has tokens from "
                            "stsvend with other key data; change its key by key change"
                        )
                        continue
                    mtr.set_key_data(conn, meter.id, row.key_data)
                updated += 1
            behind = _behind_group(conn, row, groups)
            if behind is not None:
                warnings.append(behind)
            if row.last_tid is not None:
                base = int(row.key_data.base_date)
                ours = mtr.last_tids(conn, meter.id).get(base)
                mtr.set_last_tid(conn, meter.id, base, max(row.last_tid, ours or 0))
        if problems:
            raise ImportError_(
                f"{len(problems)} row(s) cannot be imported; nothing was imported", problems
            )
        log_operation(
            conn,
            at=now,
            operator=actor.username,
            terminal=actor.terminal,
            action="meters.import",
            detail={"added": added, "updated": updated, "warnings": len(warnings)},
        )
    if warnings:
        return MeterImportWarned(len(rows), added, updated, tuple(warnings))
    return MeterImport(len(rows), added, updated)


def _behind_group(
    conn: Connection,
    row: ImportRow,
    groups: dict[int, tuple[grp.SupplyGroupRecord, kc.JobRecord] | None],
) -> str | None:
    """A warning if the row puts a meter on a key revision its group has left by a job."""
    sgc = row.key_data.sgc
    if sgc not in groups:
        try:
            group = grp.get_group(conn, sgc)
        except RecordNotFoundError:
            groups[sgc] = None
        else:
            job = kc.latest_job(conn, sgc)
            groups[sgc] = None if job is None else (group, job)
    known = groups[sgc]
    if known is None:
        return None
    group, job = known
    data = row.key_data
    now_on = (data.krn, data.ken, int(data.base_date))
    if now_on == (group.krn, group.ken, group.base_date):
        return None

    def revision(krn: int, ken: int, base_date: int) -> str:
        text = f"KRN {krn}"
        if base_date != group.base_date or int(data.base_date) != base_date:
            text += f" base date {base_date}"
        if ken != group.ken or data.ken != ken:
            text += f" KEN {ken}"
        return text

    root = job.target.get("catch_up_of", job.id)
    return (
        f"line {row.line}: meter {row.drn} is on {revision(*now_on)} of supply group "
        f"{sgc:06d}, which moved to {revision(group.krn, group.ken, group.base_date)} "
        f"(job {root}): run `stsvend key-change catch-up {root}`"
    )
