"""Benchmarks run apart from the tests: ``pytest benchmarks/ --benchmark-only``."""

from __future__ import annotations

import sys
from pathlib import Path

# Let benchmarks import the tests' vector loader.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
