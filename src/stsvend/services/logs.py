"""The token log for auditors: export (CSV / JSON lines), verify, seal, re-anchor.

Token digits go into an export only for roles the permission table allows
(``log.export-digits``); everyone else gets the column empty.  Every export and every verify,
also one that fails, is an entry of the operation log (never with token digits).
"""

from __future__ import annotations

import contextlib
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend.errors import InputError, StsError
from stsvend.files import OutputFileError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.manifest import Coverage, DigestWriter, seal_now, sealed_heads
from stsvend.store.models import LogSeal
from stsvend.store.repos.oplog import log_operation
from stsvend.tokenlog.audit import REANCHOR_ACTION, REANCHOR_STATEMENT, reanchor_body
from stsvend.tokenlog.chain import GENESIS
from stsvend.tokenlog.reader import LogFilter, export_log, verify_log
from stsvend.tokenlog.records import statement_mac
from stsvend.tokenlog.writer import last_seal, write_seal
from stsvend.vending.roles import Action, Role, is_allowed

__all__ = [
    "LogVerificationFailed",
    "export",
    "latest_anchor",
    "reanchor",
    "seal",
    "verify",
]


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
    svc: Services, actor: Actor, where: LogFilter, out: IO[str], *, fmt: str,
    manifest: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """Write the rows ``where`` selects to ``out``; the operation log records who exported
    which filter, in which format, how many rows and whether with digits (never the digits).

    With ``manifest``, the log is sealed first and the answer also holds what a manifest
    states (:func:`~stsvend.services.manifest.build_manifest`): the SHA-256 and size of what
    was written, the newest seal (the anchor) and how many exported rows it covers; the
    digest and the anchor are recorded in the operation log's entry too.
    """
    authorize(svc, actor, Action.LOG_EXPORT)
    digits = is_allowed(Role.parse(actor.role), Action.LOG_EXPORT_DIGITS)
    detail: dict[str, Any] = {"digits": digits, "format": fmt, "filter": where.as_dict()}
    if manifest:
        seal_now(svc)
    stream = DigestWriter(out)
    extra: dict[str, Any] = {}
    try:
        with svc.store.transaction() as conn:
            anchor = last_seal(conn)
            coverage = Coverage({} if anchor is None else sealed_heads(conn, anchor.seal_id))
            count = export_log(conn, where, stream, fmt=fmt, show_digits=digits,
                               on_row=coverage if manifest else None)  # fmt: skip
            now = svc.now()
            if manifest:
                extra = {
                    "sha256": stream.hexdigest(), "bytes": stream.size, "covered": coverage.covered,
                    "anchor": None if anchor is None else {
                        "seal": anchor.seal_id, "mac": anchor.mac.hex(),
                        "at": anchor.at.isoformat()},
                }  # fmt: skip
            log_operation(
                conn,
                at=now,
                operator=actor.username,
                terminal=actor.terminal,
                action="log.export",
                detail={"rows": count, **detail, **_recorded(extra)},
            )
    except OSError as exc:
        error = OutputFileError(f"cannot write the export: {exc.strerror}")
        _record_failure(svc, actor, "log.export", detail, error)
        raise error from None
    except StsError as exc:
        _record_failure(svc, actor, "log.export", detail, exc)
        raise
    out_doc: dict[str, Any] = {"rows": count, "digits": digits}
    if manifest:
        out_doc.update(extra, format=fmt, filter=where.as_dict(), made_at=now.isoformat(),
                       operator=actor.username, terminal=actor.terminal)  # fmt: skip
    return out_doc


def _recorded(extra: dict[str, Any]) -> dict[str, Any]:
    """What the operation log keeps of a manifest: the digest and the anchor's seal."""
    if not extra:
        return {}
    anchor = extra["anchor"]
    return {"sha256": extra["sha256"], "anchor_seal": None if anchor is None else anchor["seal"]}


def _anchor(text: str | None) -> bytes | None:
    if text is None:
        return None
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InputError("an anchor is a seal MAC: 64 hexadecimal digits (`stsvend log seal`)")
    return bytes.fromhex(value)


def verify(svc: Services, actor: Actor, *, anchor: str | None = None) -> dict[str, Any]:
    """Verify every chain, seal, sale and operation-log entry; with ``anchor`` (a seal MAC
    kept outside the database), also that nothing it covers was truncated or rolled back."""
    authorize(svc, actor, Action.LOG_VERIFY)
    anchored = _anchor(anchor)
    try:
        with svc.store.transaction() as conn:
            report = verify_log(conn, svc.log_key, anchor=anchored)
            log_operation(
                conn,
                at=svc.now(),
                operator=actor.username,
                terminal=actor.terminal,
                action="log.verify",
                outcome="ok" if report.ok else "findings",
                detail={"rows": report.rows, "findings": len(report.findings),
                        "anchor": None if anchored is None else anchored.hex()},
            )  # fmt: skip
    except StsError as exc:
        _record_failure(svc, actor, "log.verify", {}, exc)
        raise
    return {
        "ok": report.ok,
        "rows": report.rows,
        "chains": report.chains,
        "seals": report.seals,
        "sales": report.sales,
        "operations": report.operations,
        "before_protection": report.before_protection,
        "pending": report.pending,
        "anchored": anchored is not None,
        "latest_seal_mac": None if report.anchor is None else report.anchor.hex(),
        "findings": [f.as_dict() for f in report.findings],
        "notes": [f.as_dict() for f in report.notes],
    }


def latest_anchor(svc: Services) -> dict[str, Any] | None:
    """The newest seal (what to keep outside the database as an anchor); None before any."""
    with svc.store.transaction() as conn:
        last = last_seal(conn)
    if last is None:
        return None
    return {"seal": last.seal_id, "mac": last.mac.hex(), "at": last.at.isoformat()}


def seal(svc: Services, actor: Actor) -> dict[str, Any]:
    """Seal the chain heads now (also done automatically at most every log_seal_seconds).

    The answer always names the newest seal's MAC (``anchor``): keep it outside the database.
    """
    authorize(svc, actor, Action.LOG_VERIFY)
    with svc.store.transaction() as conn:
        result = write_seal(conn, svc.log_key, svc.now())
    anchor = latest_anchor(svc)
    if result is None:
        return {"sealed": False, "reason": "no chain moved since the last seal", "anchor": anchor}
    return {
        "sealed": True,
        "seal": result.seal_id,
        "heads": result.heads,
        "mac": result.mac.hex(),
        "at": result.at.isoformat(),
        "anchor": anchor,
    }


def reanchor(svc: Services, actor: Actor, *, lost: list[str] | None = None) -> dict[str, Any]:
    """After a restore from backup: state, under the log key and in the operation log, that
    the store now continues from its newest seal, and which external anchors were lost.

    Then seals at once, so that the statement itself is covered by the next anchor.
    """
    authorize(svc, actor, Action.LOG_REANCHOR)
    lost_macs = tuple(m for m in (_anchor(text) for text in lost or []) if m is not None)
    now = svc.now()
    with svc.store.transaction() as conn:
        report = verify_log(conn, svc.log_key)
        if not report.ok:
            raise LogVerificationFailed(
                f"the restored log has {len(report.findings)} finding(s): re-anchoring blesses "
                "only a log that verifies (`stsvend log verify`)"
            )
        last = last_seal(conn)
        seal_id, seal_mac = (0, GENESIS) if last is None else (last.seal_id, last.mac)
        still_there = [m for m in lost_macs if _has_seal(conn, m)]
        if still_there:
            raise InputError(f"anchor {still_there[0].hex()[:16]}… is still in the log: not lost")
        body = reanchor_body(seal_id, seal_mac, now.isoformat(), actor.username, lost_macs)
        mac = statement_mac(svc.log_key, REANCHOR_STATEMENT, body)
        log_operation(
            conn, at=now, operator=actor.username, terminal=actor.terminal,
            action=REANCHOR_ACTION, target=str(seal_id), detail={**body, "mac": mac.hex()},
        )  # fmt: skip
    sealed = seal(svc, actor)
    return {"restored_at_seal": seal_id, "lost": [m.hex() for m in lost_macs],
            "anchor": sealed["anchor"]}  # fmt: skip


def _has_seal(conn: Connection, mac: bytes) -> bool:
    return conn.execute(select(LogSeal.id).where(LogSeal.mac == mac)).first() is not None
