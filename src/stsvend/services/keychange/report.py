"""The key report: meters near key expiry, due or past a rollover, with an unconfirmed key
change, or left behind their supply group's key revision (read in one query).

The answer is one :class:`KeyReport` (its JSON form is :func:`~stsvend.services.results.as_doc`
of it).
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos.meters import count_meters
from stsvend.vending.key_change import KeyChangeState
from stsvend.vending.roles import Action
from stsvend.vending.tids import key_health

__all__ = ["BEHIND_GROUP", "KeyReport", "KeyReportRow", "key_report"]

#: The status of a meter not on its group's key revision since a group key change, with no
#: open key change to take it there (a catch-up job does).
BEHIND_GROUP = "behind_group"


@attrs.frozen
class KeyReportRow:
    """A meter that needs attention, and why."""

    #: The meter number.
    drn: str
    #: Its supply group code, 6 digits.
    sgc: str
    #: Its key revision number.
    krn: int
    #: Its base date (a year).
    base_date: int
    #: Its key expiry number.
    ken: int
    #: Why it is listed: its key statuses sorted (``near_key_expiry``, ``key_expired``,
    #: ``rollover_due``, ``not_rolled_over``...), then :data:`BEHIND_GROUP` if it is.
    statuses: tuple[str, ...]
    #: The first minute its KEN refuses (ISO 8601), None for KEN 255 (never).
    key_expires_at: str | None
    #: The first minute past its base date's last TID (ISO 8601).
    base_date_ends_at: str
    #: The state of its open key change (``pending``, ``issued``), None if it has none.
    open_key_change: KeyChangeState | None


@attrs.frozen
class KeyReport:
    """The key report: the meters that need attention, out of all meters."""

    #: When it was made (ISO 8601, UTC).
    at: str
    #: How many meters the store holds.
    meters: int
    #: The meters that need attention, in DRN order.
    listed: tuple[KeyReportRow, ...]


def key_report(
    svc: Services, actor: Actor, *, sgc: int | None = None, limit: int = 10_000
) -> KeyReport:
    """Meters near key expiry, needing or past a rollover, with an unconfirmed key change, or
    behind their group's key revision."""
    authorize(svc, actor, Action.REPORTS)
    now = svc.now()
    warn = timedelta(days=svc.config.key_warning_days)
    rows: list[KeyReportRow] = []
    with svc.store.transaction() as conn:
        found = kc.report_rows(conn, sgc=sgc, limit=limit)
        total = count_meters(conn)
    for item in found:
        meter = item.meter
        health = key_health(now, meter.key_data, warn_within=warn)
        if health.ok and item.open_state is None and not item.behind_group:
            continue
        statuses = sorted(s.value for s in health.statuses if s.value != "ok")
        if item.behind_group:
            statuses.append(BEHIND_GROUP)
        expires = health.key_expires_at
        rows.append(
            KeyReportRow(
                drn=meter.drn,
                sgc=f"{meter.sgc:06d}",
                krn=meter.krn,
                base_date=meter.base_date,
                ken=meter.ken,
                statuses=tuple(statuses),
                key_expires_at=None if expires is None else expires.isoformat(),
                base_date_ends_at=health.base_date_ends_at.isoformat(),
                open_key_change=None
                if item.open_state is None
                else KeyChangeState(item.open_state),
            )
        )
    return KeyReport(at=now.isoformat(), meters=total, listed=tuple(rows))
