"""The key report: meters near key expiry, due or past a rollover, with an unconfirmed key
change, or left behind their supply group's key revision (read in one query)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.repos import keychanges as kc
from stsvend.store.repos.meters import count_meters
from stsvend.vending.roles import Action
from stsvend.vending.tids import key_health

__all__ = ["BEHIND_GROUP", "key_report"]

#: The status of a meter not on its group's key revision since a group key change, with no
#: open key change to take it there (a catch-up job does).
BEHIND_GROUP = "behind_group"


def key_report(
    svc: Services, actor: Actor, *, sgc: int | None = None, limit: int = 10_000
) -> dict[str, Any]:
    """Meters near key expiry, needing or past a rollover, with an unconfirmed key change, or
    behind their group's key revision."""
    authorize(svc, actor, Action.REPORTS)
    now = svc.now()
    warn = timedelta(days=svc.config.key_warning_days)
    rows: list[dict[str, Any]] = []
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
        rows.append(
            {
                "drn": meter.drn,
                "sgc": f"{meter.sgc:06d}",
                "krn": meter.krn,
                "base_date": meter.base_date,
                "ken": meter.ken,
                "statuses": statuses,
                "key_expires_at": None
                if health.key_expires_at is None
                else health.key_expires_at.isoformat(),
                "base_date_ends_at": health.base_date_ends_at.isoformat(),
                "open_key_change": item.open_state,
            }
        )
    return {"at": now.isoformat(), "meters": total, "listed": rows}
