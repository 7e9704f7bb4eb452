"""The ``keychange`` worker part: supply group key change jobs, one batch a round.

A job started with ``stsvend key-change group`` (or left half-done) goes on under
``stsvend worker`` without anyone resuming it: each round works one batch (``batch_size``
meters, default 1000, from ``[adapters.worker.keychange]``) of the oldest running job, in the
services' own transactions, so a stop between rounds loses nothing and the job resumes where
it was.  The worker's operator needs the ``key-change.bulk`` right and the keystore.

>>> KeyChangeJobs.description
'supply group key change jobs, one batch of meters a round'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stsvend.errors import InputError
from stsvend.services.context import Actor, Services

__all__ = ["KeyChangeJobs"]


class KeyChangeJobs:
    """A :class:`~stsvend.adapters.worker.WorkerPart` over the key change jobs."""

    description = "supply group key change jobs, one batch of meters a round"
    settings_required: tuple[str, ...] = ()
    name = "keychange"

    def __init__(self, svc: Services, actor: Actor, settings: Mapping[str, Any]) -> None:
        size = settings.get("batch_size", 1000)
        if type(size) is not int or not 1 <= size <= 1_000_000:
            raise InputError("[adapters.worker.keychange] batch_size is 1 to 1000000")
        interval = settings.get("interval_seconds", 30)
        if type(interval) not in (int, float) or not 0.1 <= interval <= 86_400:
            raise InputError("[adapters.worker.keychange] interval_seconds is 0.1 to 86400")
        self.svc, self.actor, self.batch_size = svc, actor, size
        self.interval_seconds = float(interval)

    def run_once(self) -> int:
        from stsvend.services.keychange import list_jobs, run_job
        from stsvend.vending.key_change import KeyChangeJobState

        running = [j for j in list_jobs(self.svc, self.actor)
                   if j.state is KeyChangeJobState.RUNNING]  # fmt: skip
        if not running:
            return 0
        job = running[0]
        after = run_job(self.svc, self.actor, job.job, batch_size=self.batch_size, max_batches=1)
        # A job whose last meters were skipped finishes with nothing done: still a round's work.
        return max(after.done - job.done, 1 if after.state is not job.state else 0)

    def close(self) -> None:
        """Nothing of its own to release: the services belong to the runner."""
