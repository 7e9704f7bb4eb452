"""Running a job's batches: in this process, or in worker processes on disjoint parts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stsvend.errors import StsError
from stsvend.services.context import Actor, Services
from stsvend.services.keychange.batch import run_batch
from stsvend.store.repos import keychanges as kc

__all__ = ["KeyChangeJobError", "ProgressFn", "run_parallel", "run_part"]

#: Called after each batch with (meters done, meters in the job).
ProgressFn = Callable[[int, int], None]


class KeyChangeJobError(StsError):
    """A worker of a parallel supply-group key change failed (the job can be resumed)."""

    code = "storage"
    default_message = "a key change worker failed; run the job again to resume it"


def run_part(
    svc: Services,
    actor: Actor,
    job: kc.JobRecord,
    batch_size: int,
    max_batches: int | None,
    part: tuple[int, int],
    progress: ProgressFn | None,
    done: int,
    total: int,
    behind: kc.Behind | None = None,
) -> bool:
    """Batches of one part until it is finished (True) or ``max_batches`` ran (False)."""
    after, batches = 0, 0
    while max_batches is None or batches < max_batches:
        handled, after = run_batch(svc, actor, job, after, batch_size, part, behind)
        if not handled:
            return True
        batches += 1
        done += handled
        total = max(total, done)
        if progress is not None:
            progress(done, total)
    return False


def _worker(
    opener: Callable[[], Services],
    actor: Actor,
    job: kc.JobRecord,
    batch_size: int,
    max_batches: int | None,
    part: tuple[int, int],
    behind: kc.Behind | None,
    queue: Any,
) -> None:
    """A worker process: its part of the job.  Reports ("batch", meters) after each batch,
    then ("finished" | "stopped", part) or ("error", message)."""
    try:
        svc = opener()
        seen = [0]

        def report(done: int, _total: int) -> None:
            queue.put(("batch", done - seen[0]))
            seen[0] = done

        try:
            finished = run_part(svc, actor, job, batch_size, max_batches, part, report, 0, 0,
                                behind)  # fmt: skip
        finally:
            svc.store.dispose()
        queue.put(("finished" if finished else "stopped", part[0]))
    except BaseException as exc:  # the parent turns it into an error for the user
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def run_parallel(
    opener: Callable[[], Services],
    actor: Actor,
    job: kc.JobRecord,
    batch_size: int,
    max_batches: int | None,
    workers: int,
    progress: ProgressFn | None,
    done: int,
    total: int,
    behind: kc.Behind | None = None,
) -> bool:
    """Run the parts in ``workers`` processes; True when every part finished."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    procs = [
        context.Process(
            target=_worker,
            args=(opener, actor, job, batch_size, max_batches, (k, workers), behind, queue),
        )
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    outcomes: list[str] = []
    errors: list[str] = []
    while len(outcomes) + len(errors) < workers:
        kind, value = queue.get()
        if kind == "batch":
            done += int(value)
            total = max(total, done)
            if progress is not None:
                progress(done, total)
        elif kind == "error":
            errors.append(str(value))
        else:
            outcomes.append(str(kind))
    for proc in procs:
        proc.join()
    if errors:
        raise KeyChangeJobError("a key change worker failed: " + "; ".join(errors[:3]))
    return all(kind == "finished" for kind in outcomes)
