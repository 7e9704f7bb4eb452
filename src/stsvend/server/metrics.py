"""The sale-point server's Prometheus metrics, in the text exposition format 0.0.4 (written here:
a few counters and one histogram need no client library).

Every sample is a sum, so the counts of several worker processes add up: with
``STSVEND_METRICS_DIR`` set (``stsvend serve`` sets it when it runs more than one worker), each
worker writes its counts to a file of its own there at most once a second, and the worker that
answers a scrape adds the other workers' files to its own counts.  Gauges (the vendors' floats)
are read from the database at the scrape, by whichever worker answers it.

The purchase code counts business events with :func:`count`:

>>> REGISTRY.clear()
>>> count("vend", vendor="SHOP1"); count("refusal", code="daily_limit")
>>> print(REGISTRY.render(), end="")
# HELP stsvend_refusals_total Purchases refused, by problem code.
# TYPE stsvend_refusals_total counter
stsvend_refusals_total{code="daily_limit"} 1
# HELP stsvend_vends_total Tokens vended, by vendor.
# TYPE stsvend_vends_total counter
stsvend_vends_total{vendor="SHOP1"} 1
>>> count("vend")
Traceback (most recent call last):
ValueError: the event 'vend' takes the labels ('vendor',), not ()
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = [
    "BUCKETS",
    "CONTENT_TYPE",
    "EVENTS",
    "FAMILIES",
    "REGISTRY",
    "Registry",
    "Sample",
    "count",
    "observe_request",
    "token_matches",
]

#: The exposition format's media type.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Upper bounds (seconds) of the latency histogram's buckets.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LOG = logging.getLogger("stsvend.server")

#: name → (type, help) of every metric family the server publishes.
FAMILIES: dict[str, tuple[str, str]] = {
    "stsvend_http_requests_total": (
        "counter", "Requests answered, by operation (route) and outcome (status class or problem "
        "code)."),
    "stsvend_http_request_duration_seconds": (
        "histogram", "Time to answer a request, by operation and outcome."),
    "stsvend_vends_total": ("counter", "Tokens vended, by vendor."),
    "stsvend_replays_total": (
        "counter", "Purchases answered again from their stored result, by vendor."),
    "stsvend_refusals_total": ("counter", "Purchases refused, by problem code."),
    "stsvend_auth_failures_total": ("counter", "Failed authentications, by what was asked for."),
    "stsvend_rate_limited_total": (
        "counter", "Requests refused with 429, by limit (key: a terminal's rate; address: "
        "failed authentications)."),
    "stsvend_vendor_float_minor": (
        "gauge", "A vendor's float in minor units of its currency, read at the scrape."),
    "stsvend_vendor_float_low": ("gauge", "1 if a vendor's float is at or below its low mark."),
}  # fmt: skip

#: The business events :func:`count` takes: event → (family, its labels).
EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "vend": ("stsvend_vends_total", ("vendor",)),
    "replay": ("stsvend_replays_total", ("vendor",)),
    "refusal": ("stsvend_refusals_total", ("code",)),
    "auth_failure": ("stsvend_auth_failures_total", ("operation",)),
    "rate_limited": ("stsvend_rate_limited_total", ("limit",)),
}

Labels = tuple[tuple[str, str], ...]
#: One line of the exposition: family, suffix (``""``, ``_bucket``, ``_sum``, ``_count``),
#: labels, value.
Sample = tuple[str, str, Labels, float]
_Key = tuple[str, str, Labels]
_FILE = re.compile(r"metrics-(\d+)\.json")


def _labels(values: Mapping[str, str]) -> Labels:
    # Bounded, so that a caller's mistake cannot make a sample of unbounded size.
    return tuple(sorted((k, str(v)[:100]) for k, v in values.items()))


class Registry:
    """Counters and histograms of one process; thread-safe (the services run in a pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples: dict[_Key, float] = {}
        self._directory: Path | None = None
        self._flush_due = False

    def clear(self) -> None:
        """Forget every count (a test starts from nothing)."""
        with self._lock:
            self._samples.clear()

    def inc(self, family: str, labels: Mapping[str, str], by: float = 1.0) -> None:
        key = (family, "", _labels(labels))
        with self._lock:
            self._samples[key] = self._samples.get(key, 0.0) + by
        self._changed()

    def observe(self, family: str, labels: Mapping[str, str], value: float) -> None:
        """One observation of a histogram: every bucket it falls in, the sum and the count."""
        base = _labels(labels)
        with self._lock:
            for bound in (*BUCKETS, float("inf")):  # every bucket is published, even at 0
                key = (family, "_bucket", (*base, ("le", _number(bound))))
                self._samples[key] = self._samples.get(key, 0.0) + (value <= bound)
            for suffix, by in (("_sum", value), ("_count", 1.0)):
                self._samples[(family, suffix, base)] = (
                    self._samples.get((family, suffix, base), 0.0) + by)  # fmt: skip
        self._changed()

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return [(f, s, labels, v) for (f, s, labels), v in self._samples.items()]

    # --- several worker processes ---------------------------------------------------------

    def share(self, directory: Path | None) -> None:
        """Write this process's counts to ``directory`` (None: keep them to itself)."""
        self._directory = directory

    def _changed(self) -> None:
        if self._directory is None:
            return
        with self._lock:
            if self._flush_due:
                return
            self._flush_due = True
        timer = threading.Timer(1.0, self.flush)
        timer.daemon = True
        timer.start()

    def flush(self) -> None:
        """Write this process's counts to its file now (atomically: a reader sees the last
        whole file)."""
        with self._lock:
            self._flush_due = False
        if self._directory is None:
            return
        rows = [[f, s, [list(pair) for pair in labels], v] for f, s, labels, v in self.snapshot()]
        final = self._directory / f"metrics-{os.getpid()}.json"
        partial = final.with_suffix(".tmp")
        try:
            partial.write_text(json.dumps(rows), "utf-8")
            partial.replace(final)
        except OSError as exc:  # the counts stay in memory; the next change tries again
            _LOG.warning("metrics: cannot write %s: %s", final, exc.strerror)

    def _others(self) -> Iterable[Sample]:
        if self._directory is None:
            return
        try:
            names = sorted(os.listdir(self._directory))
        except OSError:
            return
        for name in names:
            found = _FILE.fullmatch(name)
            if found is None or int(found.group(1)) == os.getpid():
                continue
            with contextlib.suppress(OSError, ValueError, TypeError):
                rows = json.loads((self._directory / name).read_text("utf-8"))
                yield from ((f, s, tuple((k, v) for k, v in labels), float(value))
                            for f, s, labels, value in rows)  # fmt: skip

    # --- the exposition -------------------------------------------------------------------

    def render(self, gauges: Iterable[Sample] = ()) -> str:
        """The text exposition of every count (this process's and the shared files') and of
        ``gauges``."""
        total: dict[_Key, float] = {}
        for family, suffix, labels, value in (*self.snapshot(), *self._others()):
            if family in FAMILIES:
                total[(family, suffix, labels)] = total.get((family, suffix, labels), 0.0) + value
        for family, suffix, labels, value in gauges:
            total[(family, suffix, labels)] = value
        lines: list[str] = []
        for family in sorted({key[0] for key in total}):
            kind, text = FAMILIES[family]
            lines += [f"# HELP {family} {text}", f"# TYPE {family} {kind}"]
            mine = sorted((k for k in total if k[0] == family), key=_order)
            lines += [f"{f}{s}{_render_labels(labels)} {_number(total[(f, s, labels)])}"
                      for f, s, labels in mine]  # fmt: skip
        return "".join(line + "\n" for line in lines)


def _order(key: _Key) -> tuple[Labels, str, float]:
    _family, suffix, labels = key
    plain = tuple(pair for pair in labels if pair[0] != "le")
    bound = next((float(v) for k, v in labels if k == "le"), 0.0)
    return plain, suffix, bound


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _render_labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    """
    >>> _number(3.0), _number(0.25), _number(float("inf"))
    ('3', '0.25', '+Inf')
    """
    if value == float("inf"):
        return "+Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


#: The server's counts in this process.
REGISTRY = Registry()


def count(event: str, by: int = 1, /, **labels: str) -> None:
    """Count ``by`` business events (:data:`EVENTS` names them and their labels); a wrong event
    or label is a programming error, raised at once."""
    family, names = EVENTS.get(event, ("", ()))
    if not family:
        raise ValueError(f"no such event {event!r}: one of {sorted(EVENTS)}")
    if tuple(sorted(labels)) != tuple(sorted(names)):
        raise ValueError(f"the event {event!r} takes the labels {names}, not {tuple(labels)}")
    REGISTRY.inc(family, labels, by)


def observe_request(operation: str, outcome: str, seconds: float) -> None:
    """Count one answered request and its latency."""
    labels = {"operation": operation, "outcome": outcome}
    REGISTRY.inc("stsvend_http_requests_total", labels)
    REGISTRY.observe("stsvend_http_request_duration_seconds", labels, seconds)


def token_matches(configured: str, presented: str) -> bool:
    """Whether ``presented`` is the metrics token; ``configured`` is the token itself or
    ``sha256:<hex>`` of it.  Compared as SHA-256 digests in constant time.

    >>> digest = "sha256:" + hashlib.sha256(b"scrape-me-please-0001").hexdigest()
    >>> token_matches(digest, "scrape-me-please-0001"), token_matches(digest, "guess")
    (True, False)
    >>> token_matches("scrape-me-please-0001", "scrape-me-please-0001")
    True
    """
    if configured.startswith("sha256:"):
        want = bytes.fromhex(configured.removeprefix("sha256:"))
    else:
        want = hashlib.sha256(configured.encode("utf-8")).digest()
    given = hashlib.sha256(presented.encode("utf-8", "replace")).digest()
    return hmac.compare_digest(given, want)
