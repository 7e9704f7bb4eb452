"""Key changes: one meter, or a whole supply group in resumable batches.

A key change is made (its tokens computed under the meter's current key and written to the
token log) in state *pending*; its tokens go on the next receipt of the meter (state *issued*)
and again on every receipt until someone confirms that the meter took them (*confirmed*: the
meter's key data becomes the target).  Credit meanwhile is made under the target key data.

A supply group key change (the 1993 → 2014 rollover is the worked case) is a job: each batch of
meters is one transaction (key changes and token log rows together), the job remembers nothing
but which meters it has done (a unique (job, meter) constraint), so a job killed at any point
and run again does every meter exactly once.  A *catch-up* job takes the meters a finished job
left behind (skipped, cancelled since, or imported later on the old key revision).

One module per concern: :mod:`.changeset` (a key change set and its row), :mod:`.meter` (one
meter: make, confirm, cancel), :mod:`.jobs` (supply-group jobs), :mod:`.batch` (one batch of a
job), :mod:`.worker` (running a job's batches, in parallel processes if asked),
:mod:`.report` (the key expiry / rollover report).
"""

from __future__ import annotations

from stsvend.services.keychange.changeset import make_change
from stsvend.services.keychange.jobs import (
    JobTarget,
    KeyChangeJob,
    SkippedMeter,
    catch_up,
    list_jobs,
    run_job,
    start_job,
)
from stsvend.services.keychange.meter import (
    KeyChangeTransition,
    cancel,
    confirm,
    key_change_meter,
)
from stsvend.services.keychange.report import KeyReport, KeyReportRow, key_report
from stsvend.services.keychange.worker import KeyChangeJobError, ProgressFn

__all__ = [
    "JobTarget",
    "KeyChangeJob",
    "KeyChangeJobError",
    "KeyChangeTransition",
    "KeyReport",
    "KeyReportRow",
    "ProgressFn",
    "SkippedMeter",
    "cancel",
    "catch_up",
    "confirm",
    "key_change_meter",
    "key_report",
    "list_jobs",
    "make_change",
    "run_job",
    "start_job",
]
