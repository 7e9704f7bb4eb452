"""``stsvend crm import``: CRM master data (customers, contracts, premises, meters).

``stsvend crm import FILE --format csv|isu|ise [--mapping TOML] [--supply-group SGC]
[--json]`` reads the export through the CRM adapter of that name (entry-point group
``stsvend.crm_importers``) and its column mapping, and applies it with
:func:`stsvend.services.crm.import_crm`.  The report counts created, changed, unchanged and
rejected rows, lists each rejected row's line and reason, and names the columns dropped
unread.  A progress bar shows on a terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stsvend_cli.common import Session, console, emit, json_option, table, whole, with_session

if TYPE_CHECKING:
    from stsvend.services.crm import CrmImportReport

__all__ = ["crm"]


@click.group()
def crm() -> None:
    """CRM master data: customers, contracts, premises and meters (identifiers only)."""


@crm.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    required=True,
    metavar="NAME",
    help="The CRM adapter: csv, isu, ise (stsvend adapters list --group crm).",
)
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A column mapping (TOML) over the format's default.",
)
@click.option(
    "--supply-group",
    "sgc",
    metavar="SGC",
    default=None,
    help="The supply group of meters new to stsvend (else a mapped column).",
)
@json_option
@with_session(action="meters.import")
def crm_import(
    sess: Session, file: Path, fmt: str, mapping: Path | None, sgc: str | None, as_json: bool
) -> None:
    """Import CRM master data; only identifiers are kept (see docs/integration.md)."""
    from stsvend.adapters.registry import load
    from stsvend.errors import InputError
    from stsvend.services.crm import import_crm
    from stsvend.services.results import as_doc

    group = whole(sgc, "supply group code", 0, 999_999)
    importer = load("crm", fmt)(mapping)
    try:
        stream = open(file, encoding=importer.mapping.encoding, newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror}") from None
    with stream, _progress(not as_json) as tick:
        report = import_crm(sess.svc, sess.actor, importer.source(stream), supply_group=group,
                            progress=tick)  # fmt: skip
    emit(as_doc(report), as_json, lambda _: _show(report, file.name))


class _Bar:
    """A rich progress bar on standard error (rows read; the total is not known ahead)."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.progress: Any = None

    def __enter__(self) -> Any:
        import sys

        if not (self.shown and sys.stderr.isatty()):
            return None
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.completed:,} rows"),
                                 TimeElapsedColumn(), console=Console(stderr=True))  # fmt: skip
        self.progress.start()
        task = self.progress.add_task("crm import", total=None)
        return lambda rows: self.progress.update(task, completed=rows)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _progress(shown: bool) -> _Bar:
    return _Bar(shown)


def _show(report: CrmImportReport, name: str) -> None:
    out = console()
    out.print(table(f"CRM import ({report.format}): {name}", ["rows", "created", "changed",
                    "unchanged", "rejected", "meters added", "closed"],
                    [[report.rows, report.created, report.changed, report.unchanged,
                      report.rejected, report.meters_added, report.closed]]))  # fmt: skip
    if report.rejections:
        out.print(table("rejected rows", ["line", "reason"],
                        [[r.line, r.reason] for r in report.rejections]))  # fmt: skip
    dropped = ", ".join(report.dropped_columns) or "none"
    click.echo(f"columns dropped unread: {dropped}")
