"""Every input interface fuzzed with a fixed seed, at a small size (the full run of 10,000
inputs per interface is ``benchmarks/fuzz_inputs.py``): no exception but a stsvend error, no
exit 70, no traceback, no value accepted that a strict reader refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.harness import INTERFACES, run_interface
from tests.fuzz.support import Store, build

SEED = 20261203
SIZES = {"money": 2000, "batch": 300, "config": 150, "key_file": 150, "keypad_line": 300,
         "serial": 150, "profile": 150, "state_file": 100}  # fmt: skip


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_interface(name: str, tmp_path: Path) -> None:
    report = run_interface(name, SIZES[name], SEED, tmp_path)
    assert report.inputs == SIZES[name]
    assert report.failures == [], report.failures[:10]


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = build(tmp_path_factory.mktemp("fuzz") / "data")
    store.reuse_services = True
    return store


def test_store_commands(cli_store: Store, tmp_path: Path) -> None:
    report = run_interface("cli", 60, SEED, tmp_path, cli_store=cli_store)
    assert report.inputs == 60
    assert report.failures == [], report.failures[:10]
