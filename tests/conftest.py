"""Test-wide settings.

Hypothesis: no per-example deadline (CI shares two cores with PostgreSQL and subprocesses, so a
wall-clock deadline would make tests fail by load, not by a bug); examples stay as configured.

Temporary directories (``tmp_path``): on a memory file system (``/dev/shm``) when the machine
has one and ``PYTEST_DEBUG_TEMPROOT`` does not say otherwise.  The store commits with
``synchronous=FULL`` and the keystore syncs its files, as they must; on a disk each of the
suite's thousands of commits waits for the device, on a memory file system the same calls
return at once.  What is written, read and checked is the same.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings

settings.register_profile("stsvend", deadline=None)
settings.load_profile("stsvend")

_MEMORY_FS = Path("/dev/shm")


def pytest_configure() -> None:
    # Read by pytest when it first makes the session's temporary root (after this hook); with
    # xdist the controller makes it and each worker gets a folder under it.
    if "PYTEST_DEBUG_TEMPROOT" not in os.environ and os.access(_MEMORY_FS, os.W_OK):
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(_MEMORY_FS)
