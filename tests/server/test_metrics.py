"""The metrics registry: the exposition format, counts of several worker processes added up
through their files, the business events' API and the metrics token."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.server import metrics
from stsvend.server.metrics import BUCKETS, EVENTS, REGISTRY, Registry, count, token_matches

# One sample line of the exposition format 0.0.4.
_LINE = re.compile(r'[a-z_]+(\{([a-z_]+="([^"\\\n]|\\["\\n])*",?)+\})? (-?[0-9.e+]+|\+Inf)')


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    REGISTRY.clear()
    yield
    REGISTRY.clear()


def _parse(text: str) -> dict[str, float]:
    """Each sample line → its value; every other line is a HELP or TYPE comment."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) [a-z_]+ .+", line), line
            continue
        assert _LINE.fullmatch(line), line
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    return samples


def test_a_histogram_has_cumulative_buckets_sum_and_count() -> None:
    metrics.observe_request("/v1/vendor", "2xx", 0.02)
    metrics.observe_request("/v1/vendor", "2xx", 0.3)
    text = REGISTRY.render()
    samples = _parse(text)
    labels = 'operation="/v1/vendor",outcome="2xx"'
    assert samples[f"stsvend_http_requests_total{{{labels}}}"] == 2
    base = "stsvend_http_request_duration_seconds"
    assert samples[f'{base}_bucket{{{labels},le="0.01"}}'] == 0
    assert samples[f'{base}_bucket{{{labels},le="0.025"}}'] == 1
    assert samples[f'{base}_bucket{{{labels},le="0.5"}}'] == 2
    assert samples[f'{base}_bucket{{{labels},le="+Inf"}}'] == 2
    assert samples[f"{base}_count{{{labels}}}"] == 2
    assert samples[f"{base}_sum{{{labels}}}"] == pytest.approx(0.32)
    bounds = re.findall(rf'{base}_bucket\{{{labels},le="([^"]+)"\}}', text)
    assert bounds == [*(metrics._number(b) for b in BUCKETS), "+Inf"]  # in order
    assert f"# TYPE {base} histogram" in text
    assert "# TYPE stsvend_http_requests_total counter" in text


def test_label_values_are_escaped_and_bounded() -> None:
    count("refusal", code='a"b\\c\nd' + "x" * 200)
    (line,) = [x for x in REGISTRY.render().splitlines() if not x.startswith("#")]
    assert line.startswith('stsvend_refusals_total{code="a\\"b\\\\c\\nd') and _LINE.fullmatch(line)
    assert len(line) < 140


@pytest.mark.parametrize(("event", "labels"), [("vend", {"vendor": "SHOP1"}),
                                                ("replay", {"vendor": "SHOP1"}),
                                                ("refusal", {"code": "daily_limit"})])  # fmt: skip
def test_each_business_event_counts_in_its_family(event: str, labels: dict[str, str]) -> None:
    count(event, **labels)
    count(event, 2, **labels)
    family, names = EVENTS[event]
    (label,) = names
    assert _parse(REGISTRY.render())[f'{family}{{{label}="{labels[label]}"}}'] == 3


def test_a_wrong_event_or_label_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="no such event"):
        count("vended", vendor="SHOP1")
    with pytest.raises(ValueError, match="takes the labels"):
        count("vend", code="x")
    with pytest.raises(ValueError, match="takes the labels"):
        count("vend", vendor="SHOP1", code="x")
    assert REGISTRY.render() == ""


def test_gauges_are_rendered_as_given() -> None:
    text = REGISTRY.render([("stsvend_vendor_float_minor", "", (("vendor", "SHOP1"),), 2500.0)])
    assert "# TYPE stsvend_vendor_float_minor gauge" in text
    assert _parse(text) == {'stsvend_vendor_float_minor{vendor="SHOP1"}': 2500}


def test_workers_counts_add_up_through_their_files(tmp_path: Path) -> None:
    # Another worker's file, as it writes it; and a stale partial file and a stranger's file,
    # which are not read.
    other = Registry()
    other.inc("stsvend_vends_total", {"vendor": "SHOP1"}, 4)
    other.observe("stsvend_http_request_duration_seconds", {"operation": "x", "outcome": "2xx"},
                  0.001)  # fmt: skip
    rows = [[f, s, [list(p) for p in labels], v] for f, s, labels, v in other.snapshot()]
    (tmp_path / f"metrics-{os.getpid() + 1}.json").write_text(json.dumps(rows))
    (tmp_path / "metrics-1.tmp").write_text("[")
    (tmp_path / "metrics-2.json").write_text("not json")
    (tmp_path / "notes.txt").write_text("x")
    mine = Registry()
    mine.share(tmp_path)
    try:
        mine.inc("stsvend_vends_total", {"vendor": "SHOP1"})
        samples = _parse(mine.render())
        assert samples['stsvend_vends_total{vendor="SHOP1"}'] == 5
        bucket = '{operation="x",outcome="2xx",le="0.005"}'
        assert samples[f"stsvend_http_request_duration_seconds_bucket{bucket}"] == 1
        mine.flush()  # its own file is written, and not counted twice by itself
        assert (tmp_path / f"metrics-{os.getpid()}.json").exists()
        assert _parse(mine.render())['stsvend_vends_total{vendor="SHOP1"}'] == 5
    finally:
        mine.share(None)


def test_a_change_is_written_within_a_second(tmp_path: Path) -> None:
    shared = Registry()
    shared.share(tmp_path)
    try:
        shared.inc("stsvend_vends_total", {"vendor": "SHOP1"})
        shared.inc("stsvend_vends_total", {"vendor": "SHOP1"})
        path = tmp_path / f"metrics-{os.getpid()}.json"
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        rows = json.loads(path.read_text())
        assert rows == [["stsvend_vends_total", "", [["vendor", "SHOP1"]], 2.0]]
    finally:
        shared.share(None)


def test_a_folder_that_cannot_be_written_loses_nothing_in_memory(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture
                                                                  ) -> None:  # fmt: skip
    shared = Registry()
    shared.share(tmp_path / "missing")
    shared.inc("stsvend_vends_total", {"vendor": "SHOP1"})
    shared.flush()
    assert "cannot write" in caplog.text
    assert _parse(shared.render())['stsvend_vends_total{vendor="SHOP1"}'] == 1


def test_the_metrics_token_plain_or_as_its_digest() -> None:
    token = "a-long-scrape-secret-1"
    digest = "sha256:" + hashlib.sha256(token.encode()).hexdigest()
    for configured in (token, digest, digest.upper().replace("SHA256:", "sha256:")):
        assert token_matches(configured, token)
        assert not token_matches(configured, token + "x")
        assert not token_matches(configured, "")
    assert not token_matches(token, "\udcff")  # not even UTF-8: refused, no exception
