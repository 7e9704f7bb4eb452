"""The premise → metering point table the MSCONS billing export reports units under.

``import_metering_points`` reads a CSV (header ``premise,metering_point``) whole before it
writes anything: a bad line refuses the file (naming the line), nothing is half-imported.  A
premise already mapped takes the file's metering point.

>>> parse_csv("premise,metering_point\\nP-1,DE0001\\n")
(('P-1', 'DE0001'),)
>>> parse_csv("premise,metering_point\\nP-1,DE 1\\n")
Traceback (most recent call last):
...
stsvend.errors.InputError: line 2: a metering point is 1 to 35 letters and digits
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping

import attrs
from sqlalchemy import delete, insert, select

from stsvend.errors import InputError, StsError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.models import MeteringPoint
from stsvend.store.repos.oplog import log_operation
from stsvend.vending.roles import Action

__all__ = [
    "ImportedPoints",
    "MeteringPointMissing",
    "import_metering_points",
    "metering_points",
    "parse_csv",
]

HEADER = ("premise", "metering_point")
#: A premise number as the CRM gives it; a metering point as the market names it (an..35).
_PREMISE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}")
_POINT = re.compile(r"[A-Za-z0-9]{1,35}")
#: The most lines one file may hold.
MAX_LINES = 1_000_000


class MeteringPointMissing(StsError):
    """A premise the MSCONS export needs has no metering point (or an account no premise)."""

    code = "metering_point"
    default_message = "a premise has no metering point"


@attrs.frozen
class ImportedPoints:
    """What an import did: premises mapped for the first time, and remapped."""

    added: int
    changed: int


def parse_csv(text: str) -> tuple[tuple[str, str], ...]:
    """The file's (premise, metering point) pairs; a bad line is an error naming its number."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise InputError("line 1: the header must be premise,metering_point")
    seen: set[str] = set()
    out = []
    for number, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if number > MAX_LINES:
            raise InputError(f"a file holds at most {MAX_LINES} lines")
        if len(row) != 2:
            raise InputError(f"line {number}: two fields, premise and metering point")
        premise, point = row[0].strip(), row[1].strip()
        if not _PREMISE.fullmatch(premise):
            raise InputError(f"line {number}: a premise is 1 to 40 letters, digits and . _ / -")
        if not _POINT.fullmatch(point):
            raise InputError(f"line {number}: a metering point is 1 to 35 letters and digits")
        if premise in seen:
            raise InputError(f"line {number}: premise {premise} is in the file twice")
        seen.add(premise)
        out.append((premise, point))
    return tuple(out)


def import_metering_points(svc: Services, actor: Actor, text: str) -> ImportedPoints:
    """Map the file's premises to their metering points (all or nothing)."""
    authorize(svc, actor, Action.CUSTOMERS_MANAGE)
    pairs = parse_csv(text)
    now = svc.now()
    with svc.store.transaction() as conn:
        stmt = select(MeteringPoint.premise, MeteringPoint.metering_point)
        known = {premise: point for premise, point in conn.execute(stmt)}
        fresh = [(p, m) for p, m in pairs if known.get(p) != m]
        changed = sum(1 for p, _m in fresh if p in known)
        for chunk in (fresh[i : i + 500] for i in range(0, len(fresh), 500)):
            conn.execute(delete(MeteringPoint).where(
                MeteringPoint.premise.in_([p for p, _m in chunk])))  # fmt: skip
            conn.execute(
                insert(MeteringPoint),
                [{"premise": p, "metering_point": m, "updated_at": now} for p, m in chunk],
            )
        result = ImportedPoints(added=len(fresh) - changed, changed=changed)
        log_operation(conn, at=now, operator=actor.username, terminal=actor.terminal,
                      action="billing.metering_points", target=None,
                      detail={"added": result.added, "changed": result.changed,
                              "lines": len(pairs)})  # fmt: skip
    return result


def metering_points(svc: Services, actor: Actor) -> Mapping[str, str]:
    """Every premise and its metering point."""
    authorize(svc, actor, Action.REPORTS)
    with svc.store.transaction() as conn:
        stmt = select(MeteringPoint.premise, MeteringPoint.metering_point)
        rows = conn.execute(stmt.order_by(MeteringPoint.premise))
        return {premise: point for premise, point in rows}
