"""Test-wide settings.

Hypothesis: no per-example deadline (CI shares two cores with PostgreSQL and subprocesses, so a
wall-clock deadline would make tests fail by load, not by a bug); examples stay as configured.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("stsvend", deadline=None)
settings.load_profile("stsvend")
