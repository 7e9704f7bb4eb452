"""``stsvend key-change``: one meter, a whole supply group (with a progress bar), confirm,
cancel, jobs, and the key expiry / rollover report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from stsvend_cli.common import Session, console, emit, json_option, table, whole, with_session
from stsvend_cli.receipt_out import Delivery, deliver, receipt_options

if TYPE_CHECKING:
    from stsvend.services.keychange import KeyChangeJob, KeyReport

__all__ = ["key_change"]

#: How many skipped meters a job's summary names (``--json`` has them all).
_SHOW_SKIPPED = 20


def _sgc(text: str) -> int:
    from stsvend import sts

    return sts.KeyData(sgc=text, ti=0, krn=1, key_type=2).sgc


@click.group("key-change")
def key_change() -> None:
    """Key changes: commissioning, KRN/TI/SGC/KEN changes, the base date rollover."""


@key_change.command("meter")
@click.argument("drn")
@click.option("--rollover", is_flag=True, help="Move to the next base date (RO bit).")
@click.option("--sgc", default=None, help="New supply group.")
@click.option("--krn", default=None, help="New key revision.")
@click.option("--ti", default=None, help="New tariff index.")
@click.option("--ken", default=None, help="New key expiry number.")
@click.option("--key-type", default=None, help="New key type (2 or 3).")
@click.option("--sgc-token", is_flag=True, help="EA07: add the 3rd token carrying the SGC.")
@click.option("--issue", is_flag=True, help="Hand the tokens out now (else: with the next sale).")
@click.option("--request-id", default=None, metavar="ID")
@receipt_options
@json_option
@with_session(action="key-change")
def kc_meter(
    sess: Session, drn: str, rollover: bool, sgc: str | None, krn: str | None, ti: str | None,
    ken: str | None, key_type: str | None, sgc_token: bool, issue: bool,
    request_id: str | None, printer: str | None, pdf: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Key-change one meter (supervisor or engineer)."""
    from stsvend.services.keychange import key_change_meter

    out = Delivery(printer, pdf)
    result = key_change_meter(
        sess.svc, sess.actor, drn, rollover=rollover, sgc=None if sgc is None else _sgc(sgc),
        krn=whole(krn, "--krn", 1, 9), ti=whole(ti, "--ti", 0, 99),
        ken=whole(ken, "--ken", 0, 255), key_type=whole(key_type, "--key-type", 0, 3),
        sgc_token=sgc_token, issue=issue,
        request_id=request_id,
    )  # fmt: skip
    deliver(out, result, as_json)


@key_change.command("group")
@click.argument("sgc")
@click.option("--rollover", is_flag=True, help="Move every meter to the next base date.")
@click.option("--krn", default=None, help="New key revision.")
@click.option("--ken", default=None, help="New key expiry number.")
@click.option("--batch-size", default="1000", show_default=True)
@click.option("--max-batches", default=None, help="Stop after this many batches.")
@click.option(
    "--workers",
    default="1",
    show_default=True,
    help="Processes working disjoint parts of the group (PostgreSQL).",
)
@click.option(
    "--request-id",
    default=None,
    metavar="ID",
    help="Names the job: run again with the same id to resume it.",
)
@json_option
@with_session(action="key-change.bulk")
def kc_group(
    sess: Session, sgc: str, rollover: bool, krn: str | None, ken: str | None,
    batch_size: str, max_batches: str | None, workers: str, request_id: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Key-change a whole supply group in batches (resumable; every meter exactly once)."""
    from stsvend.services.keychange import start_job

    sgc_value = _sgc(sgc)
    runs = _run_options(batch_size, max_batches, workers)
    job = start_job(sess.svc, sess.actor, sgc_value, rollover=rollover,
                    krn=whole(krn, "--krn", 1, 9), ken=whole(ken, "--ken", 0, 255),
                    request_id=request_id)  # fmt: skip
    _run(sess, job.job, *runs, as_json)


@key_change.command("catch-up")
@click.argument("job")
@click.option("--batch-size", default="1000", show_default=True)
@click.option("--max-batches", default=None, help="Stop after this many batches.")
@click.option("--workers", default="1", show_default=True)
@click.option(
    "--request-id",
    default=None,
    metavar="ID",
    help="Names the catch-up job: run again with the same id to resume it.",
)
@json_option
@with_session(action="key-change.bulk")
def kc_catch_up(
    sess: Session, job: str, batch_size: str, max_batches: str | None, workers: str,
    request_id: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Key-change the meters a finished group job left behind (skipped, cancelled since, or
    imported later on the old key revision): a new job, resumable like any other."""
    from stsvend.services.keychange import catch_up

    job_id = whole(job, "JOB", 1, 2**31 - 1)  # the ids are 32-bit integers
    assert job_id is not None
    options = _run_options(batch_size, max_batches, workers)
    made = catch_up(sess.svc, sess.actor, job_id, request_id=request_id)
    _run(sess, made.job, *options, as_json)


@key_change.command("resume")
@click.argument("job")
@click.option("--batch-size", default="1000", show_default=True)
@click.option("--max-batches", default=None)
@click.option("--workers", default="1", show_default=True)
@json_option
@with_session(action="key-change.bulk")
def kc_resume(
    sess: Session, job: str, batch_size: str, max_batches: str | None, workers: str,
    as_json: bool,
) -> None:  # fmt: skip
    """Go on with a supply group job from where it stopped."""
    job_id = whole(job, "JOB", 1, 2**31 - 1)  # the ids are 32-bit integers
    assert job_id is not None
    _run(sess, job_id, *_run_options(batch_size, max_batches, workers), as_json)


def _run_options(
    batch_size: str, max_batches: str | None, workers: str
) -> tuple[int, int | None, int]:
    size = whole(batch_size, "--batch-size", 1, 1_000_000)
    count = whole(workers, "--workers", 1, 64)
    assert size is not None and count is not None  # both have defaults
    return size, whole(max_batches, "--max-batches", 1, 10**9), count


def _run(
    sess: Session,
    job_id: int,
    batch_size: int,
    max_batches: int | None,
    workers: int,
    as_json: bool,
) -> None:
    from stsvend.services.bootstrap import open_from_environment
    from stsvend.services.keychange import run_job
    from stsvend.services.results import as_doc
    from stsvend.vending.key_change import KeyChangeJobState

    parallel: dict[str, Any] = {"workers": workers, "opener": open_from_environment}
    if as_json:
        result = run_job(sess.svc, sess.actor, job_id, batch_size=batch_size,
                         max_batches=max_batches, **parallel)  # fmt: skip
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console(),
        ) as bar:  # fmt: skip
            task = bar.add_task(f"key change job {job_id}", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = run_job(sess.svc, sess.actor, job_id, batch_size=batch_size,
                             max_batches=max_batches, progress=progress,
                             **parallel)  # fmt: skip

    def show(r: KeyChangeJob) -> None:
        states = ", ".join(f"{k} {v}" for k, v in sorted(r.by_state.items())) or "none yet"
        caught = f", catching up job {r.catch_up_of}" if r.catch_up_of else ""
        console().print(
            f"job {r.job} ({r.state.value}{caught}): SGC {r.sgc}, {r.done} of "
            f"{r.total} meters done ({states})",
            markup=False,
        )
        skipped = r.skipped
        for item in skipped[:_SHOW_SKIPPED]:
            console().print(f"  skipped {item.drn}: {item.reason}", markup=False)
        if len(skipped) > _SHOW_SKIPPED:
            console().print(f"  … and {len(skipped) - _SHOW_SKIPPED} more skipped (see --json)")
        if skipped and r.state is KeyChangeJobState.DONE:
            console().print(
                f"  once they are free, `stsvend key-change catch-up {r.job}` takes them",
                markup=False,
            )

    emit(as_doc(result), as_json, lambda _doc: show(result))


@key_change.command("jobs")
@json_option
@with_session(action="key-change.bulk")
def kc_jobs(sess: Session, as_json: bool) -> None:
    """List supply group key change jobs."""
    from stsvend.services.keychange import list_jobs
    from stsvend.services.results import as_doc

    jobs = list_jobs(sess.svc, sess.actor)
    # The target reads as its JSON form does: "rollover: yes, krn: 2, ken: 255, base_date: …"
    emit(as_doc(jobs), as_json, lambda _doc: console().print(table(
        "Key change jobs", ["job", "SGC", "target", "state", "done", "total"],
        [[j.job, j.sgc, as_doc(j.target), j.state.value, j.done, j.total] for j in jobs],
    )))  # fmt: skip


@key_change.command("confirm")
@click.argument("drn")
@json_option
@with_session(keys=False, action="key-change.confirm")
def kc_confirm(sess: Session, drn: str, as_json: bool) -> None:
    """The meter took its key change: it now runs on the new key data."""
    from stsvend.services.keychange import confirm
    from stsvend.services.results import as_doc

    done = confirm(sess.svc, sess.actor, drn)
    emit(as_doc(done), as_json, lambda _: click.echo(
        f"key change of {done.meter} {done.state.value}"))  # fmt: skip


@key_change.command("cancel")
@click.argument("drn")
@click.option("--reason", required=True)
@json_option
@with_session(keys=False, action="key-change.confirm")
def kc_cancel(sess: Session, drn: str, reason: str, as_json: bool) -> None:
    """Withdraw a meter's open key change (its tokens stay in the log).

    If its tokens were already handed out (with a sale or by --issue), the customer may have
    entered them: the meter is then on the new key and rejects tokens made on the old one.
    The command warns; ask the customer, or send a test token, before selling again.
    """
    from stsvend.services.keychange import cancel
    from stsvend.services.results import as_doc
    from stsvend.vending.key_change import KeyChangeState

    done = cancel(sess.svc, sess.actor, drn, reason)
    emit(as_doc(done), as_json, lambda _: click.echo(
        f"key change of {done.meter} {done.state.value}"))  # fmt: skip
    if done.was is KeyChangeState.ISSUED:
        click.echo(
            f"warning: the key change tokens of {done.meter} were already handed out; if "
            "they were entered, the meter is on the new key and will reject every token made "
            "on the old one. Check the meter before selling to it again.",
            err=True,
        )


@key_change.command("report")
@click.option("--sgc", default=None)
@json_option
@with_session(keys=False, action="reports")
def kc_report(sess: Session, sgc: str | None, as_json: bool) -> None:
    """Meters near key expiry, not yet rolled over, or with an unconfirmed key change."""
    from stsvend.services.keychange import key_report
    from stsvend.services.results import as_doc

    data = key_report(sess.svc, sess.actor, sgc=None if sgc is None else _sgc(sgc))

    def show(d: KeyReport) -> None:
        console().print(table(
            f"Key report ({len(d.listed)} of {d.meters} meters need attention)",
            ["DRN", "SGC", "KRN", "base date", "KEN", "status", "open key change"],
            [[m.drn, m.sgc, m.krn, m.base_date, m.ken, ", ".join(m.statuses),
              "" if m.open_key_change is None else m.open_key_change.value] for m in d.listed],
        ))  # fmt: skip

    emit(as_doc(data), as_json, lambda _doc: show(data))
