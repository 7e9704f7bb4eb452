"""The worker runner: one loop over the worker parts, each at its own pace, until told to stop.

A part that handled something runs again at once (after the other parts that are due); one
that found nothing waits its
``interval_seconds``; one that failed waits a backoff that doubles with each failure in a row
(up to :data:`MAX_BACKOFF` seconds) and is reported in the health answer.  :meth:`Runner.stop`
(the CLI calls it on SIGTERM and Ctrl-C) lets the round under way finish, then every part is
closed: a stop never cuts a delivery in half.

The clock and the sleep are injected, so the pacing is tested without waiting:

>>> class Count:
...     name, interval_seconds, left = "count", 10.0, 3
...     def run_once(self) -> int:
...         self.left -= 1
...         return 1 if self.left >= 0 else 0
...     def close(self) -> None:
...         pass
>>> now = [0.0]
>>> runner = Runner([Count()], clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
>>> runner.run(rounds=5)
>>> runner.health()["parts"]["count"]["handled"], now[0]
(3, 10.0)
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from stsvend.adapters.worker import WorkerPart

__all__ = ["FAILING_AFTER", "MAX_BACKOFF", "Runner"]

#: The longest wait after failures in a row (seconds).
MAX_BACKOFF = 300.0
#: Failures in a row after which the health answer says the part is failing.
FAILING_AFTER = 5


class _State:
    def __init__(self, part: WorkerPart) -> None:
        self.part = part
        self.due = 0.0
        self.handled = 0
        self.rounds = 0
        self.failures = 0
        self.last_error = ""
        self.last_run: float | None = None
        self.turn = 0  # the runner's round number when it last ran (ties go to the oldest)


class Runner:
    """Runs ``parts`` round after round; ``log`` gets one JSON line per failure and stop."""

    def __init__(
        self,
        parts: Sequence[WorkerPart],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._states = [_State(p) for p in parts]
        self._clock = clock
        self._stopping = threading.Event()
        self._sleep = sleep if sleep is not None else self._stopping.wait
        self._log = log if log is not None else (lambda line: print(line, file=sys.stderr))
        self._lock = threading.Lock()
        self._started = clock()

    def stop(self) -> None:
        """Finish the round under way, then end :meth:`run` (safe from a signal handler)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self, *, rounds: int | None = None) -> None:
        """Run until :meth:`stop` (or ``rounds`` rounds, for ``--once`` and tests); then
        close every part."""
        done = 0
        try:
            while not self._stopping.is_set() and (rounds is None or done < rounds):
                # Among parts that are due, the one that waited longest goes first, so that a
                # part with a backlog never starves the others.
                state = min(self._states, key=lambda s: (s.due, s.turn), default=None)
                if state is None:
                    return
                wait = state.due - self._clock()
                if wait > 0:
                    self._sleep(wait)
                    continue
                done += 1
                state.turn = done
                self._round(state)
        finally:
            for state in self._states:
                try:
                    state.part.close()
                except Exception as exc:  # one part's close never stops the others'
                    self._event("close_failed", state, exc)

    def run_each_once(self) -> int:
        """One round of every part, in order (``stsvend worker --once``); items handled."""
        total = 0
        try:
            for state in self._states:
                if self._stopping.is_set():
                    break
                total += self._round(state)
        finally:
            for state in self._states:
                state.part.close()
        return total

    def _round(self, state: _State) -> int:
        try:
            handled = state.part.run_once()
        except Exception as exc:  # the round failed; the part is retried after a backoff
            with self._lock:
                state.failures += 1
                state.rounds += 1
                state.last_error = f"{type(exc).__name__}: {exc}"
                state.last_run = self._clock()
                backoff = min(MAX_BACKOFF, state.part.interval_seconds * 2**state.failures)
                state.due = self._clock() + backoff
            self._event("round_failed", state, exc, retry_in=round(backoff, 1))
            return 0
        with self._lock:
            state.failures = 0
            state.rounds += 1
            state.handled += handled
            state.last_run = self._clock()
            state.due = self._clock() + (0.0 if handled else state.part.interval_seconds)
        return handled

    def _event(self, event: str, state: _State, exc: BaseException, **more: Any) -> None:
        self._log(json.dumps({"event": event, "part": state.part.name,
                              "error": f"{type(exc).__name__}: {exc}", **more}))  # fmt: skip

    def health(self) -> dict[str, Any]:
        """``status`` ``ok``, or ``failing`` when a part has failed :data:`FAILING_AFTER`
        rounds in a row (or ``stopping``); each part's rounds, items handled, failures in a
        row, last error and seconds since its last round."""
        now = self._clock()
        with self._lock:
            parts = {
                s.part.name: {
                    "rounds": s.rounds,
                    "handled": s.handled,
                    "failures_in_a_row": s.failures,
                    "last_error": s.last_error,
                    "seconds_since_last_round": None
                    if s.last_run is None
                    else round(now - s.last_run, 1),
                }
                for s in self._states
            }
            failing = any(s.failures >= FAILING_AFTER for s in self._states)
        status = "stopping" if self.stopping else "failing" if failing else "ok"
        return {"status": status, "uptime_seconds": round(now - self._started, 1),
                "parts": parts}  # fmt: skip
