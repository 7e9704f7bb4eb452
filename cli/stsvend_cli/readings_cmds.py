"""``stsvend readings``: import a readings file, list a meter's readings, purge old months."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from stsvend.services.results import as_doc
from stsvend_cli.common import (
    Session,
    console,
    emit,
    json_option,
    read_text,
    table,
    whole,
    with_session,
)

__all__ = ["readings"]


@click.group()
def readings() -> None:
    """Meter readings: from files and gateways, judged before they are used."""


def _time(text: str | None, what: str) -> datetime | None:
    from stsvend.errors import InputError

    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} is an ISO 8601 time with its offset, got {text!r}") from None
    if at.tzinfo is None:
        raise InputError(f"{what} needs its offset (Z for UTC), got {text!r}")
    return at


@readings.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
@with_session(keys=False, action="readings.ingest")
def readings_import(sess: Session, csv_file: Path, as_json: bool) -> None:
    """Store the readings of a CSV file (drn, read_at, energy_wh or energy_kwh, …)."""
    from stsvend.services.reading_import import import_file
    from stsvend.services.readings import ReadingIntake

    text = read_text(csv_file)
    got = import_file(sess.svc, sess.actor, text, name=csv_file.name)

    def show(d: ReadingIntake) -> None:
        click.echo(f"{d.received} reading(s): {d.stored} stored, {d.duplicates} already stored, "
                   f"{d.conflicts} conflicting (the stored one kept), {d.flagged} flagged, "
                   f"{len(d.rejected)} rejected")  # fmt: skip
        if d.reflagged:
            click.echo(f"{d.reflagged} earlier reading(s) judged again")
        for item in d.rejected:
            click.echo(f"rejected: {csv_file.name}: {item.ref}: {item.reason}", err=True)

    emit(as_doc(got), as_json, lambda _doc: show(got))


@readings.command("list")
@click.argument("drn")
@click.option("--since", metavar="TIME", help="From this time (ISO 8601 with its offset).")
@click.option("--until", metavar="TIME", help="Before this time.")
@click.option("--limit", default="100", show_default=True, help="The newest this many.")
@json_option
@with_session(keys=False, action="readings.view")
def readings_list(sess: Session, drn: str, since: str | None, until: str | None, limit: str,
                  as_json: bool) -> None:  # fmt: skip
    """A meter's readings, oldest first, with their plausibility flags."""
    from stsvend.services.readings import list_readings

    count = whole(limit, "--limit", 1, 100_000)
    assert count is not None
    got = list_readings(sess.svc, sess.actor, drn, since=_time(since, "--since"),
                        until=_time(until, "--until"), limit=count)  # fmt: skip
    rows = [[r.read_at.isoformat(), f"{r.energy_wh:,}", "" if r.interval_wh is None
             else f"{r.interval_wh:,}", r.status, r.source, r.flag or "ok"]
            for r in got.readings]  # fmt: skip
    emit(as_doc(got), as_json, lambda _doc: console().print(table(
        f"readings of {got.drn}", ["time (UTC)", "register Wh", "interval Wh", "status",
                                   "source", "plausible"], rows)))  # fmt: skip


@readings.command("purge")
@click.option("--keep-months", required=True, metavar="N",
              help="Keep this month and the N-1 before it.")  # fmt: skip
@json_option
@with_session(keys=False, action="readings.purge")
def readings_purge(sess: Session, keep_months: str, as_json: bool) -> None:
    """Remove the readings of older months (whole monthly partitions on PostgreSQL)."""
    from stsvend.services.readings import purge

    months = whole(keep_months, "--keep-months", 1, 1200)
    assert months is not None
    removed = purge(sess.svc, sess.actor, keep_months=months)
    emit({"removed": removed}, as_json,
         lambda _doc: click.echo(f"{removed} reading(s) removed"))  # fmt: skip


@readings.command("dlms-read")
@click.argument("drn")
@json_option
@with_session(keys=False, action="readings.ingest")
def readings_dlms_read(sess: Session, drn: str, as_json: bool) -> None:
    """Read a meter's energy register and clock over DLMS once, and store the reading."""
    from stsvend.services.common import normalise_drn
    from stsvend.services.readings import IncomingReading, ingest
    from stsvend_cli.relay_cmds import control_adapter

    number = normalise_drn(drn)
    got = control_adapter(sess, "dlms").read(number)
    intake = ingest(sess.svc, sess.actor, [IncomingReading(
        drn=number, read_at=got.read_at, energy_wh=got.energy_wh, ref=number)],
        source="dlms")  # fmt: skip
    if intake.rejected:
        from stsvend.errors import InputError

        raise InputError(f"the reading of meter {number} is refused: "
                         f"{intake.rejected[0].reason}")  # fmt: skip
    outcome = ("stored" if intake.stored and not intake.flagged else
               "stored, flagged" if intake.stored else
               "already stored" if intake.duplicates else "conflicting (the stored one kept)")
    doc = {"drn": number, "read_at": got.read_at.isoformat(), "energy_wh": got.energy_wh,
           "outcome": outcome}  # fmt: skip
    emit(doc, as_json, lambda d: click.echo(
        f"meter {d['drn']}: {d['energy_wh']:,} Wh at {d['read_at']} ({d['outcome']})"))
