"""Test-wide settings.

Hypothesis: no per-example deadline (CI shares two cores with PostgreSQL and subprocesses, so a
wall-clock deadline would make tests fail by load, not by a bug); examples stay as configured.

Temporary directories (``tmp_path``): on a memory file system (``/dev/shm``) when the machine
has one and ``PYTEST_DEBUG_TEMPROOT`` does not say otherwise.  The store commits with
``synchronous=FULL`` and the keystore syncs its files, as they must; on a disk each of the
suite's thousands of commits waits for the device, on a memory file system the same calls
return at once.  What is written, read and checked is the same.

PINs: hashed in this process at scrypt cost 2**10 instead of the program's 2**14
(:data:`TEST_PIN_LOG2_N`).  A stored hash names its cost and verification reads it from there,
so logins run the production code; the suite logs in thousands of times.  The program's own
cost is checked where it matters: ``tests/services/test_admin.py`` hashes at 2**14 and
``tests/test_suite_settings.py`` checks that a process of its own still uses 2**14.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from stsvend.services import pin
from tests.services.saved import Bare

settings.register_profile("stsvend", deadline=None)
settings.load_profile("stsvend")

_MEMORY_FS = Path("/dev/shm")
#: The scrypt cost (log2 N) of the PINs hashed in the test processes.
TEST_PIN_LOG2_N = 10


def pytest_configure() -> None:
    # Read by pytest when it first makes the session's temporary root (after this hook); with
    # xdist the controller makes it and each worker gets a folder under it.
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access(_MEMORY_FS, os.W_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(_MEMORY_FS)
    pin._LOG2_N = TEST_PIN_LOG2_N


@pytest.fixture(scope="session")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bare]:
    """The plain service installation, built once per database kind, copied per test."""
    made = Bare(tmp_path_factory.mktemp("bare"))
    try:
        yield made
    finally:
        made.close()
