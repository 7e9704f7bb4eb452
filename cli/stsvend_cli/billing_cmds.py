"""``stsvend billing``: the billing export (csv, json, mscons) and the metering points.

``stsvend billing export --from DAY --to DAY [--format NAME] [--out FILE]`` writes the period's
figures per account in an installed billing format (standard output without ``--out``) once
they reconcile with the ledger and the token log; it says so on standard error, and when they
do not it names each finding, writes nothing and ends with ``not_reconciled``.
``stsvend billing metering-points import FILE`` maps premises to metering points (a CSV of
``premise,metering_point``); ``… list`` shows them.
"""

from __future__ import annotations

from pathlib import Path

import click

from stsvend_cli.common import Session, console, emit, json_option, table, with_session

__all__ = ["billing"]


@click.group()
def billing() -> None:
    """Billing export and the metering points MSCONS reports under."""


@billing.command("export")
@click.option("--from", "first", required=True, metavar="YYYY-MM-DD", help="First local day.")
@click.option("--to", "last", required=True, metavar="YYYY-MM-DD",
              help="Last local day (included).")  # fmt: skip
@click.option("--format", "fmt", default="csv", show_default=True, metavar="NAME",
              help="csv, json, mscons (or another installed billing adapter).")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the export to FILE (whole, or not at all).")  # fmt: skip
@with_session(keys=False, action="reports")
def export(sess: Session, first: str, last: str, fmt: str, out: Path | None) -> None:
    """Export a period's billing figures, checked against the ledger and the token log."""
    from stsvend.adapters.billing import exporter
    from stsvend.files import private_output
    from stsvend.services.billing import billing_export
    from stsvend.services.billing_checks import NotReconciled, failures
    from stsvend.services.metering_points import metering_points

    made = exporter(fmt, sess.svc.config.adapter_settings("billing", fmt))
    result = billing_export(sess.svc, sess.actor, first, last)
    if not result.reconciled:
        found = failures(result.checks)
        for line in found:
            click.echo(f"not reconciled: {line}", err=True)
        raise NotReconciled(
            f"the billing figures of {result.from_} to {result.to} do not reconcile with the "
            f"ledger and the token log ({len(found)} finding(s)); nothing was written"
        )
    points = metering_points(sess.svc, sess.actor) if made.needs_metering_points else {}
    text = made.render(result, points)
    if out is None:
        click.echo(text, nl=False)
    else:
        with private_output(out) as handle:
            handle.write(text)
    click.echo(
        f"reconciled: {len(result.accounts)} account(s), {len(result.checks)} checks hold "
        f"against the ledger and the token log ({result.from_} to {result.to})",
        err=True,
    )


@billing.group("metering-points")
def metering_points_group() -> None:
    """The metering point of each premise (the MSCONS export's key)."""


@metering_points_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_session(keys=False, action="customers.manage")
def import_points(sess: Session, file: Path) -> None:
    """Map premises to metering points from a CSV (premise,metering_point); all or nothing."""
    from stsvend.errors import InputError
    from stsvend.services.metering_points import import_metering_points

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read {file}: {reason}") from None
    result = import_metering_points(sess.svc, sess.actor, text)
    click.echo(f"metering points: {result.added} added, {result.changed} changed")


@metering_points_group.command("list")
@json_option
@with_session(keys=False, action="reports")
def list_points(sess: Session, as_json: bool) -> None:
    """List every premise and its metering point."""
    from stsvend.services.metering_points import metering_points

    points = metering_points(sess.svc, sess.actor)
    doc = {"metering_points": [{"premise": p, "metering_point": m} for p, m in points.items()]}
    emit(doc, as_json, lambda _d: console().print(
        table("Metering points", ["premise", "metering point"],
              [[p, m] for p, m in points.items()])))  # fmt: skip
