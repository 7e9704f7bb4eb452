"""The token log for auditors: export (CSV / JSON lines), verify, seal.

Token digits go into an export only for roles the permission table allows
(``log.export-digits``); everyone else gets the column empty.  Every export and every verify,
also one that fails, is an entry of the operation log (never with token digits).
"""

from __future__ import annotations

import contextlib
from typing import IO, Any

from stsvend.errors import StsError
from stsvend.files import OutputFileError
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


def _record_failure(
    svc: Services, actor: Actor, action: str, detail: dict[str, Any], error: StsError
) -> None:
    """A failed export or verify is recorded too, in a transaction of its own (the one that
    failed is rolled back); if the store itself is what failed, the error the caller sees says
    so and nothing more can be written."""
    with contextlib.suppress(StsError), svc.store.transaction() as conn:
        log_operation(
            conn,
            at=svc.now(),
            operator=actor.username,
            terminal=actor.terminal,
            action=action,
            outcome="failed",
            detail={**detail, "error": error.code},
        )


def export(
    svc: Services, actor: Actor, where: LogFilter, out: IO[str], *, fmt: str
) -> dict[str, Any]:
    """Write the rows ``where`` selects to ``out``; the operation log records who exported
    which filter, in which format, how many rows and whether with digits (never the digits)."""
    authorize(svc, actor, Action.LOG_EXPORT)
    digits = is_allowed(Role.parse(actor.role), Action.LOG_EXPORT_DIGITS)
    detail: dict[str, Any] = {"digits": digits, "format": fmt, "filter": where.as_dict()}
    try:
        with svc.store.transaction() as conn:
            count = export_log(conn, where, out, fmt=fmt, show_digits=digits)
            log_operation(
                conn,
                at=svc.now(),
                operator=actor.username,
                terminal=actor.terminal,
                action="log.export",
                detail={"rows": count, **detail},
            )
    except OSError as exc:
        error = OutputFileError(f"cannot write the export: {exc.strerror}")
        _record_failure(svc, actor, "log.export", detail, error)
        raise error from None
    except StsError as exc:
        _record_failure(svc, actor, "log.export", detail, exc)
        raise
    return {"rows": count, "digits": digits}


def verify(svc: Services, actor: Actor) -> dict[str, Any]:
    """Verify every chain and seal; the report lists each exact finding."""
    authorize(svc, actor, Action.LOG_VERIFY)
    try:
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
    except StsError as exc:
        _record_failure(svc, actor, "log.verify", {}, exc)
        raise
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
