"""``stsvend log`` (export, verify, seal, reanchor) and ``stsvend report`` (daily, monthly)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    money,
    table,
    units,
    with_session,
)

if TYPE_CHECKING:
    from stsvend.services.logs import Reanchored, SealOutcome, VerifyResult
    from stsvend.services.manifest import Anchor, ExportFacts
    from stsvend.services.operations import OperationsListing
    from stsvend.services.reports import DailyReport, KindTotals, MonthlyReport

__all__ = ["log", "report"]


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    from stsvend.errors import InputError

    try:
        if not text.isascii():
            raise ValueError(text)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"a time is ISO 8601 (2026-01-31 or 2026-01-31T08:00Z), got {text!r}"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _key_filter(key: str | None) -> tuple[int | None, int | None, str | None]:
    """``--key``: an SGC, SGC/KRN, or a 6-hex-digit key check value → (sgc, krn, kcv)."""
    from stsvend.errors import InputError
    from stsvend.plaintext import parse_whole

    if key is None:
        return None, None, None
    if "/" in key:
        left, _, right = key.partition("/")
        return parse_whole(left, "the SGC", 0, 999_999), parse_whole(right, "the KRN", 1, 9), None
    if len(key) <= 6 and key.isascii() and key.isdigit():
        return parse_whole(key, "the SGC", 0, 999_999), None, None
    if len(key) == 6 and all(c in "0123456789abcdefABCDEF" for c in key):
        return None, None, key.upper()
    raise InputError("--key is an SGC, SGC/KRN, or a 6-hex-digit key check value")


@click.group()
def log() -> None:
    """The token log: export it, verify it, seal it."""


@log.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option("--since", default=None, help="From this time (ISO 8601; UTC if no zone).")
@click.option("--until", default=None, help="Before this time.")
@click.option("--meter", default=None)
@click.option("--by-operator", "by_operator", default=None, help="Rows of this operator.")
@click.option("--terminal", default=None)
@click.option(
    "--key",
    "key",
    default=None,
    metavar="SGC[/KRN]|KCV",
    help="Rows of a supply group, a key revision, or a decoder key check value.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: standard output).",
)
@with_session(action="log.export")
def log_export(
    sess: Session, fmt: str, since: str | None, until: str | None, meter: str | None,
    by_operator: str | None, terminal: str | None, key: str | None, output: Path | None,
) -> None:  # fmt: skip
    """Export the token log as CSV or JSON lines (digits only for roles allowed them)."""
    from stsvend.services.logs import export
    from stsvend.tokenlog.reader import LogFilter

    sgc, krn, kcv = _key_filter(key)
    where = LogFilter(since=_when(since), until=_when(until), meter=meter, operator=by_operator,
                      terminal=terminal, sgc=sgc, krn=krn, kcv=kcv)  # fmt: skip
    if output is None:
        export(sess.svc, sess.actor, where, sys.stdout, fmt=fmt)
    else:
        from stsvend.files import private_output

        # Written aside (0600) and renamed into place only once the export is complete and
        # recorded: a failed export leaves no file, and no file of token digits is ever
        # readable by others.
        with private_output(output) as handle:
            result = export(sess.svc, sess.actor, where, handle, fmt=fmt, manifest=True)
            beside = _write_manifest(output, result)
        click.echo(
            f"{result.rows} row(s) written to {output}"
            + ("" if result.digits else " (token digits withheld for this role)")
            + f"; manifest {beside.name}",
            err=True,
        )


def _write_manifest(output: Path, result: ExportFacts) -> Path:
    """The manifest beside ``output`` (written first: a failure leaves neither file)."""
    import json

    from stsvend.files import private_output
    from stsvend.services.manifest import MANIFEST_SUFFIX, build_manifest
    from stsvend.services.results import as_doc

    beside = output.with_name(output.name + MANIFEST_SUFFIX)
    manifest = as_doc(build_manifest(output.name, result))
    with private_output(beside) as handle:
        handle.write(json.dumps(manifest, indent=2, sort_keys=True))
        handle.write("\n")
    return beside


@log.command("operations")
@click.option("--since", default=None, help="From this time (ISO 8601; UTC if no zone).")
@click.option("--until", default=None, help="Before this time.")
@click.option("--by-operator", "by_operator", default=None, help="Entries of this operator.")
@click.option("--terminal", default=None)
@click.option("--action", "actions", multiple=True, metavar="ACTION",
              help="Entries of this action and those below it (login, log, reprint, "
                   "operators.add…); repeatable.")  # fmt: skip
@click.option("--outcome", default=None, metavar="OUTCOME",
              help="ok, refused, failed or findings.")
@click.option("--limit", default="100", show_default=True,
              help="Listing: the newest this many (an export has every entry).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="Export instead of listing (to --output, or standard output).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Export to this file, with a manifest beside it (default format csv).")
@json_option
@with_session(action="log.export")
def log_operations(
    sess: Session, since: str | None, until: str | None, by_operator: str | None,
    terminal: str | None, actions: tuple[str, ...], outcome: str | None, limit: str,
    fmt: str | None, output: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """List or export the operation log: logins, refusals, shifts, exports, verifications,
    reprints and administration, who, where and when (never token digits, PINs or keys)."""
    from stsvend.services.operations import export_operations, list_operations
    from stsvend.services.results import as_doc
    from stsvend.tokenlog.op_reader import OpFilter
    from stsvend_cli.common import whole

    where = OpFilter(since=_when(since), until=_when(until), operator=by_operator,
                     terminal=terminal, outcome=outcome,
                     actions=tuple(a.strip() for a in actions))  # fmt: skip
    if output is not None:
        from stsvend.files import private_output

        with private_output(output) as handle:
            result = export_operations(sess.svc, sess.actor, where, handle, fmt=fmt or "csv")
            beside = _write_manifest(output, result)
        click.echo(f"{result.rows} entr(ies) written to {output}; manifest {beside.name}",
                   err=True)  # fmt: skip
        return
    if fmt is not None:
        export_operations(sess.svc, sess.actor, where, sys.stdout, fmt=fmt)
        return
    data = list_operations(sess.svc, sess.actor, where, limit=whole(limit, "--limit", 1, 100_000))

    def show(d: OperationsListing) -> None:
        console().print(table(
            f"operation log: {d.shown} of {d.count} entr(ies)",
            ["id", "at (UTC)", "operator", "terminal", "action", "outcome", "target", "detail"],
            [[o.id, o.at[:19].replace("T", " "), o.operator, o.terminal, o.action, o.outcome,
              o.target, _brief(o.detail)] for o in d.operations],
        ))  # fmt: skip
        if d.shown < d.count:
            console().print(f"the newest {d.shown} shown: narrow the filter, or export them all")

    emit(as_doc(data), as_json, lambda _doc: show(data))


def _brief(detail: Any) -> str:
    import json

    text = json.dumps(detail, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 60 else text[:59] + "…"


@log.command("verify")
@click.option(
    "--anchor",
    default=None,
    metavar="MAC",
    help="A seal MAC kept outside the database (from `log seal` or `shift end`): prove that "
    "nothing it covers was truncated or rolled back.",
)
@json_option
@with_session(action="log.verify")
def log_verify(sess: Session, anchor: str | None, as_json: bool) -> None:
    """Verify every chain, seal, sale and operation-log entry; report each finding."""
    from stsvend.services.logs import verify
    from stsvend.services.results import as_doc

    result = verify(sess.svc, sess.actor, anchor=anchor)

    def show(r: VerifyResult) -> None:
        for note in r.notes:
            console().print(f"note: {note.message}")
        extra = (
            f"; {r.before_protection} record(s) before protection" if r.before_protection else ""
        ) + (f"; {r.pending} operation(s) pending the next seal" if r.pending else "")
        if r.ok:
            console().print(
                f"token log verified{' against the anchor' if r.anchored else ''}: "
                f"{r.rows} rows in {r.chains} chains, {r.seals} seals, "
                f"{r.sales} sales, {r.operations} operations, no finding{extra}"
            )
            if r.latest_seal_mac:
                console().print(f"latest seal MAC (anchor): {r.latest_seal_mac}")
            return
        console().print(table(
            f"token log: {len(r.findings)} finding(s)", ["kind", "chain", "seq", "row", "what"],
            [[f.kind, f.chain, f.seq, f.row_id, f.message] for f in r.findings],
        ))  # fmt: skip

    emit(as_doc(result), as_json, lambda _doc: show(result))
    if not result.ok:
        from stsvend.services.logs import LogVerificationFailed

        raise LogVerificationFailed(f"the token log has {len(result.findings)} finding(s)")


def _anchor_line(anchor: Anchor | None) -> str:
    if anchor is None:
        return "no seal yet: nothing to anchor"
    return f"anchor (latest seal MAC, keep it outside the database): {anchor.mac}"


@log.command("seal")
@json_option
@with_session(action="log.verify")
def log_seal(sess: Session, as_json: bool) -> None:
    """Seal every chain head that moved since the last seal (also automatic); print the
    latest seal's MAC, the anchor to keep outside the database."""
    from stsvend.services.logs import Sealed, seal
    from stsvend.services.results import as_doc

    result = seal(sess.svc, sess.actor)

    def show(r: SealOutcome) -> None:
        click.echo(
            f"seal {r.seal} over {r.heads} chain head(s): {r.mac}"
            if isinstance(r, Sealed)
            else r.reason
        )
        click.echo(_anchor_line(r.anchor))

    emit(as_doc(result), as_json, lambda _doc: show(result))


@log.command("reanchor")
@click.option(
    "--lost-anchor",
    "lost",
    multiple=True,
    metavar="MAC",
    help="An anchor taken after the backup, lost with the restore (repeatable).",
)
@json_option
@with_session()
def log_reanchor(sess: Session, lost: tuple[str, ...], as_json: bool) -> None:
    """After a restore from backup: record, under the log key, that the log continues from
    the backup's newest seal (and which anchors were lost), then seal (admin)."""
    from stsvend.services.logs import reanchor
    from stsvend.services.results import as_doc

    result = reanchor(sess.svc, sess.actor, lost=list(lost))

    def show(r: Reanchored) -> None:
        click.echo(
            f"re-anchored at seal {r.restored_at_seal}"
            + (f", {len(r.lost)} anchor(s) declared lost" if r.lost else "")
        )
        click.echo(_anchor_line(r.anchor))

    emit(as_doc(result), as_json, lambda _doc: show(result))


@click.group()
def report() -> None:
    """Daily and monthly reports (the utility's time zone)."""


def _show_report(r: DailyReport | MonthlyReport) -> None:
    from stsvend.services.reports import DailyReport
    from stsvend_cli.human import time_text

    cur = r.currency
    grouped: list[tuple[str, KindTotals]]
    if isinstance(r, DailyReport):
        by, grouped = "operator", [(k.operator, k) for k in r.by_operator]
    else:
        by, grouped = "day", [(k.day, k) for k in r.by_day]

    def said(text: str | None) -> str:
        return str(text).replace("_", " ")

    console().print(f"{r.utility}: {time_text(r.from_)} to {time_text(r.until)}",
                    markup=False)  # fmt: skip
    console().print(table(
        "By kind", ["kind", "count", "amount", "units", "reversed", "TEST"],
        [[said(k.kind), k.count, money(k.amount, cur), units(k.units, ""),
          k.reversed, k.test or ""] for k in r.by_kind],
    ))  # fmt: skip
    console().print(table(
        f"By {by}", [by, "kind", "count", "amount", "units"],
        [[label, said(k.kind), k.count, money(k.amount, cur), units(k.units, "")]
         for label, k in grouped],
    ))  # fmt: skip
    console().print(table(
        "Ledger", ["entry", "amount", "units"],
        [[said(e.entry), money(e.amount, cur), units(e.units, "")] for e in r.ledger],
    ))  # fmt: skip
    console().print(table(
        "Tokens", ["class", "purpose", "count"],
        [[t.class_, said(t.purpose), t.count] for t in r.tokens],
    ))  # fmt: skip
    console().print(f"VAT contained: {money(r.tax, cur)}")


@report.command("daily")
@click.argument("day", required=False)
@json_option
@with_session(keys=False, action="reports")
def report_daily(sess: Session, day: str | None, as_json: bool) -> None:
    """Sales of a day (YYYY-MM-DD, default today) by kind and operator."""
    from stsvend.services.reports import daily_report
    from stsvend.services.results import as_doc

    result = daily_report(sess.svc, sess.actor, day)
    emit(as_doc(result), as_json, lambda _doc: _show_report(result))


@report.command("monthly")
@click.argument("month", required=False)
@json_option
@with_session(keys=False, action="reports")
def report_monthly(sess: Session, month: str | None, as_json: bool) -> None:
    """Sales of a month (YYYY-MM, default this month) by kind and day."""
    from stsvend.services.reports import monthly_report
    from stsvend.services.results import as_doc

    result = monthly_report(sess.svc, sess.actor, month)
    emit(as_doc(result), as_json, lambda _doc: _show_report(result))
