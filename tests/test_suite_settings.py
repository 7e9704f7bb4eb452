"""What the suite lowers for its own speed stays inside the test processes.

``tests/conftest.py`` hashes PINs at a low scrypt cost in the test processes; the program,
started as a process of its own, still hashes them at the production cost.
"""

from __future__ import annotations

import subprocess
import sys

from stsvend.services import pin
from tests.conftest import TEST_PIN_LOG2_N

_HASH_ONE = "from stsvend.services import pin; print(pin.hash_pin('582047'))"


def test_the_test_processes_hash_pins_at_the_lowered_cost() -> None:
    stored = pin.hash_pin("582047")
    assert stored.startswith(f"scrypt${TEST_PIN_LOG2_N}$8$1$")
    assert pin.verify_pin("582047", stored) and not pin.verify_pin("582048", stored)


def test_the_program_hashes_pins_at_the_production_cost() -> None:
    proc = subprocess.run([sys.executable, "-c", _HASH_ONE], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    stored = proc.stdout.strip()
    assert stored.startswith("scrypt$14$8$1$"), stored
    assert pin.verify_pin("582047", stored)
