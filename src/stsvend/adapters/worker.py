"""What ``stsvend worker`` runs: parts that each do one round of work when asked.

A worker part is an adapter of the ``worker`` group (entry points ``stsvend.workers``) whose
factory is called as ``factory(svc, actor, settings)`` (the services, the operator the worker
runs as, the part's ``[adapters.worker.NAME]`` table or ``{}``) and returns a
:class:`WorkerPart`.  The runner calls :meth:`WorkerPart.run_once` again at once while it finds
work, and after ``interval_seconds`` when it found none; an exception is that round's failure
(logged, retried after a backoff), never the runner's end.

>>> class Idle:
...     name, interval_seconds = "idle", 5.0
...     def run_once(self) -> int:
...         return 0
...     def close(self) -> None:
...         pass
>>> isinstance(Idle(), WorkerPart)
True
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["WorkerPart"]


@runtime_checkable
class WorkerPart(Protocol):
    """One long-running part (work-order intake, notification delivery, key change jobs, …)."""

    #: The part's name in logs and in the health answer.
    name: str
    #: Seconds to wait after a round that found nothing to do.
    interval_seconds: float

    def run_once(self) -> int:
        """Do one round; the number of items handled (0: nothing was waiting)."""
        ...

    def close(self) -> None:
        """Release what the part holds (connections, files); called once, at the stop."""
        ...
