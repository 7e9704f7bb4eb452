"""The token log for auditors: export (CSV / JSON lines), verify, seal.

Token digits go into an export only for roles the permission table allows
(``log.export-digits``); everyone else gets the column empty.
"""

from __future__ import annotations

from typing import IO, Any

from stsvend.errors import StsError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.store.repos.oplog import log_operation
from stsvend.tokenlog.reader import LogFilter, export_log, verify_log
from stsvend.tokenlog.writer import write_seal
from stsvend.vending.roles import Action, Role, is_allowed

__all__ = ["LogVerificationFailed", "export", "seal", "verify"]


class LogVerificationFailed(StsError):
    """``log verify`` found rows changed, deleted or inserted (the findings say which)."""

    code = "refused"
    default_message = "the token log does not verify"


def export(
    svc: Services, actor: Actor, where: LogFilter, out: IO[str], *, fmt: str
) -> dict[str, Any]:
    authorize(svc, actor, Action.LOG_EXPORT)
    digits = is_allowed(Role.parse(actor.role), Action.LOG_EXPORT_DIGITS)
    with svc.store.transaction() as conn:
        count = export_log(conn, where, out, fmt=fmt, show_digits=digits)
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="log.export",
            detail={"rows": count, "digits": digits, "format": fmt},
        )
    return {"rows": count, "digits": digits}


def verify(svc: Services, actor: Actor) -> dict[str, Any]:
    """Verify every chain and seal; the report lists each exact finding."""
    authorize(svc, actor, Action.LOG_VERIFY)
    with svc.store.transaction() as conn:
        report = verify_log(conn, svc.log_key)
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action="log.verify",
            outcome="ok" if report.ok else "findings",
            detail={"rows": report.rows, "findings": len(report.findings)},
        )
    return {
        "ok": report.ok,
        "rows": report.rows,
        "chains": report.chains,
        "seals": report.seals,
        "findings": [f.as_dict() for f in report.findings],
    }


def seal(svc: Services, actor: Actor) -> dict[str, Any]:
    """Seal the chain heads now (also done automatically at most every log_seal_seconds)."""
    authorize(svc, actor, Action.LOG_VERIFY)
    with svc.store.transaction() as conn:
        result = write_seal(conn, svc.log_key, svc.now())
    if result is None:
        return {"sealed": False, "reason": "no chain moved since the last seal"}
    return {
        "sealed": True,
        "seal": result.seal_id,
        "heads": result.heads,
        "mac": result.mac.hex(),
        "at": result.at.isoformat(),
    }
