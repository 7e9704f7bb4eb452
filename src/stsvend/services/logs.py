"""The token log for auditors: export (CSV / JSON lines), verify, seal, re-anchor.

Token digits go into an export only for roles the permission table allows
(``log.export-digits``); everyone else gets the column empty.  Every export and every verify,
also one that fails, is an entry of the operation log (never with token digits).

Each answer is a frozen value (:class:`LogExport`, :class:`ManifestedLogExport`,
:class:`VerifyResult`, :class:`Sealed` or :class:`NotSealed`, :class:`Reanchored`); its JSON
form is :func:`~stsvend.services.results.as_doc` of it.
"""

from __future__ import annotations

import contextlib
from typing import IO, Any, Literal, TypeAlias, overload

import attrs
from sqlalchemy import select
from sqlalchemy.engine import Connection

from stsvend.errors import InputError, StsError
from stsvend.files import OutputFileError
from stsvend.services.auth import authorize
from stsvend.services.context import Actor, Services
from stsvend.services.manifest import (
    Anchor,
    Coverage,
    DigestWriter,
    ExportFacts,
    seal_now,
    sealed_heads,
)
from stsvend.store.models import LogSeal
from stsvend.store.repos.oplog import log_operation
from stsvend.tokenlog.audit import REANCHOR_ACTION, REANCHOR_STATEMENT, reanchor_body
from stsvend.tokenlog.chain import GENESIS
from stsvend.tokenlog.reader import LogFilter, export_log, verify_log
from stsvend.tokenlog.records import statement_mac
from stsvend.tokenlog.verify import Finding
from stsvend.tokenlog.writer import last_seal, write_seal
from stsvend.vending.roles import Action, Role, is_allowed

__all__ = [
    "LogExport",
    "LogVerificationFailed",
    "ManifestedLogExport",
    "NotSealed",
    "Reanchored",
    "SealOutcome",
    "Sealed",
    "VerifyResult",
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


@attrs.frozen
class LogExport:
    """An export of the token log to a stream, without a manifest."""

    #: The rows written.
    rows: int
    #: Whether the rows hold token digits (else that column is empty: the role may not see them).
    digits: bool


@attrs.frozen
class ManifestedLogExport(ExportFacts):
    """An export of the token log with what its manifest states
    (:func:`~stsvend.services.manifest.build_manifest`)."""

    #: Whether the rows hold token digits (else that column is empty: the role may not see them).
    digits: bool

    def manifest_digits(self) -> bool:
        return self.digits


@attrs.frozen
class VerifyResult:
    """What ``log verify`` found: counts, findings, notes, and the anchor to keep."""

    #: True when there is no finding.
    ok: bool
    #: Token log rows verified.
    rows: int
    #: Chains verified (token log and operation log).
    chains: int
    #: Seals verified.
    seals: int
    #: Sales verified against their token log rows.
    sales: int
    #: Operation-log entries verified.
    operations: int
    #: Sales and operation-log entries written before protection began (not verifiable).
    before_protection: int
    #: Operation-log entries written without the log key, chained by the next seal.
    pending: int
    #: Whether an anchor was given and checked.
    anchored: bool
    #: The newest seal's MAC (64 hexadecimal digits; the next anchor to keep), None before any.
    latest_seal_mac: str | None
    #: Rows changed, deleted or inserted, and seals that do not verify.
    findings: tuple[Finding, ...]
    #: What is worth knowing but is not a finding (a re-anchoring after a restore, for one).
    notes: tuple[Finding, ...]


@attrs.frozen
class Sealed:
    """``log seal`` wrote a seal."""

    #: The seal's number.
    seal: int
    #: How many chain heads it seals.
    heads: int
    #: Its MAC under the log key, 64 hexadecimal digits.
    mac: str
    #: When it was written (ISO 8601, UTC).
    at: str
    #: The newest seal (this one, or a concurrent newer one): keep its MAC outside the database.
    anchor: Anchor | None
    #: Always True: a seal was written.
    sealed: bool = attrs.field(default=True, init=False)


@attrs.frozen
class NotSealed:
    """``log seal`` had nothing to seal."""

    #: Why not (no chain moved since the last seal).
    reason: str
    #: The newest seal, None before any: keep its MAC outside the database.
    anchor: Anchor | None
    #: Always False: no seal was written.
    sealed: bool = attrs.field(default=False, init=False)


#: What ``log seal`` answers.
SealOutcome: TypeAlias = Sealed | NotSealed


@attrs.frozen
class Reanchored:
    """``log reanchor``: where the restored log continues from, and the anchor to keep now."""

    #: The seal the restored log continues from (0: there was none).
    restored_at_seal: int
    #: The anchors declared lost with the restore (seal MACs, hexadecimal).
    lost: tuple[str, ...]
    #: The seal written right after the statement: keep its MAC outside the database.
    anchor: Anchor | None


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


@overload
def export(
    svc: Services, actor: Actor, where: LogFilter, out: IO[str], *, fmt: str,
    manifest: Literal[False] = False,
) -> LogExport: ...  # fmt: skip


@overload
def export(
    svc: Services, actor: Actor, where: LogFilter, out: IO[str], *, fmt: str,
    manifest: Literal[True],
) -> ManifestedLogExport: ...  # fmt: skip


@overload
def export(
    svc: Services, actor: Actor, where: LogFilter, out: IO[str], *, fmt: str, manifest: bool
) -> LogExport | ManifestedLogExport: ...


def export(
    svc: Services, actor: Actor, where: LogFilter, out: IO[str], *, fmt: str,
    manifest: bool = False,
) -> LogExport | ManifestedLogExport:  # fmt: skip
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
    try:
        with svc.store.transaction() as conn:
            last = last_seal(conn)
            anchor = None if last is None else Anchor.of(last)
            coverage = Coverage({} if last is None else sealed_heads(conn, last.seal_id))
            count = export_log(conn, where, stream, fmt=fmt, show_digits=digits,
                               on_row=coverage if manifest else None)  # fmt: skip
            now = svc.now()
            recorded: dict[str, Any] = {}
            if manifest:  # what the operation log keeps of a manifest: the digest, the anchor
                recorded = {"sha256": stream.hexdigest(),
                            "anchor_seal": None if anchor is None else anchor.seal}  # fmt: skip
            log_operation(
                conn,
                at=now,
                operator=actor.username,
                terminal=actor.terminal,
                action="log.export",
                detail={"rows": count, **detail, **recorded},
            )
    except OSError as exc:
        error = OutputFileError(f"cannot write the export: {exc.strerror}")
        _record_failure(svc, actor, "log.export", detail, error)
        raise error from None
    except StsError as exc:
        _record_failure(svc, actor, "log.export", detail, exc)
        raise
    if not manifest:
        return LogExport(rows=count, digits=digits)
    return ManifestedLogExport(
        rows=count, digits=digits, format=fmt, filter=where.as_dict(), sha256=stream.hexdigest(),
        bytes=stream.size, anchor=anchor, covered=coverage.covered, made_at=now.isoformat(),
        operator=actor.username, terminal=actor.terminal,
    )  # fmt: skip


def _anchor(text: str | None) -> bytes | None:
    if text is None:
        return None
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InputError("an anchor is a seal MAC: 64 hexadecimal digits (`stsvend log seal`)")
    return bytes.fromhex(value)


def verify(svc: Services, actor: Actor, *, anchor: str | None = None) -> VerifyResult:
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
    return VerifyResult(
        ok=report.ok,
        rows=report.rows,
        chains=report.chains,
        seals=report.seals,
        sales=report.sales,
        operations=report.operations,
        before_protection=report.before_protection,
        pending=report.pending,
        anchored=anchored is not None,
        latest_seal_mac=None if report.anchor is None else report.anchor.hex(),
        findings=tuple(report.findings),
        notes=tuple(report.notes),
    )


def latest_anchor(svc: Services) -> Anchor | None:
    """The newest seal (what to keep outside the database as an anchor); None before any."""
    with svc.store.transaction() as conn:
        last = last_seal(conn)
    return None if last is None else Anchor.of(last)


def seal(svc: Services, actor: Actor) -> SealOutcome:
    """Seal the chain heads now (also done automatically at most every log_seal_seconds).

    The answer always names the newest seal's MAC (``anchor``): keep it outside the database.
    """
    authorize(svc, actor, Action.LOG_VERIFY)
    with svc.store.transaction() as conn:
        result = write_seal(conn, svc.log_key, svc.now())
    anchor = latest_anchor(svc)
    if result is None:
        return NotSealed(reason="no chain moved since the last seal", anchor=anchor)
    return Sealed(seal=result.seal_id, heads=result.heads, mac=result.mac.hex(),
                  at=result.at.isoformat(), anchor=anchor)  # fmt: skip


def reanchor(svc: Services, actor: Actor, *, lost: list[str] | None = None) -> Reanchored:
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
    return Reanchored(restored_at_seal=seal_id, lost=tuple(m.hex() for m in lost_macs),
                      anchor=sealed.anchor)  # fmt: skip


def _has_seal(conn: Connection, mac: bytes) -> bool:
    return conn.execute(select(LogSeal.id).where(LogSeal.mac == mac)).first() is not None
