"""Generated bad input for every interface that reads what a person or a file hands in, each
judged by an oracle: no exception but a stsvend error, no exit 70, no traceback, and nothing
accepted that a strict reader would refuse.

One seeded :class:`random.Random` drives every generator, so a run is repeatable from its seed.
The CI test runs a few hundred inputs per interface; ``benchmarks/fuzz_inputs.py`` runs the full
size and prints the figures.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.fuzz.cli_cases import cli_inputs, make_cli_oracle
from tests.fuzz.common import Report
from tests.fuzz.files import (
    config_inputs,
    key_file_inputs,
    keypad_line_inputs,
    make_config_oracle,
    make_key_file_oracle,
    make_keypad_line_oracle,
    make_profile_oracle,
    make_serial_oracle,
    make_state_inputs,
    make_state_oracle,
    profile_inputs,
    serial_inputs,
)
from tests.fuzz.parsers import batch_inputs, batch_oracle, money_inputs, money_oracle

__all__ = ["INTERFACES", "Report", "run_interface"]

# -- running ---------------------------------------------------------------------------------------

Maker = Callable[[Path], tuple[Callable[[random.Random], Iterator[Any]], Callable[[Any], Any]]]
INTERFACES: dict[str, Maker] = {
    "money": lambda folder: (money_inputs, money_oracle),
    "batch": lambda folder: (batch_inputs, batch_oracle),
    "config": lambda folder: (config_inputs, make_config_oracle(folder)),
    "key_file": lambda folder: (key_file_inputs, make_key_file_oracle(folder)),
    "keypad_line": lambda folder: (keypad_line_inputs, make_keypad_line_oracle(folder)),
    "serial": lambda folder: (serial_inputs, make_serial_oracle(folder)),
    "profile": lambda folder: (profile_inputs, make_profile_oracle(folder)),
    "state_file": lambda folder: (make_state_inputs(folder), make_state_oracle(folder)),
}


def run_interface(
    name: str,
    count: int,
    seed: int,
    folder: Path,
    *,
    cli_store: Any = None,
) -> Report:
    """Generate ``count`` inputs for one interface and judge each; failures are described."""
    rng = random.Random(f"{seed}/{name}")
    if name == "cli":
        generate: Callable[[random.Random], Iterator[Any]] = cli_inputs
        oracle: Callable[[Any], Any] = make_cli_oracle(cli_store)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        generate, oracle = INTERFACES[name](folder)
    report = Report(name)
    start = time.perf_counter()
    for case, _ in zip(generate(rng), range(count), strict=False):
        report.inputs += 1
        try:
            problem = oracle(case)
        except Exception as exc:  # the finding itself: anything but a stsvend error escaped
            problem = f"{type(exc).__name__}: {str(exc)[:160]}"
        if problem is not None:
            report.failures.append(f"{problem} <- {str(case)[:160]!r}")
    report.seconds = time.perf_counter() - start
    return report
