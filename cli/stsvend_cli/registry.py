"""Commands of the clerk's, supervisor's and auditor's CLI, loaded lazily by name.

``name -> "module:attribute"``.  Loading on demand keeps ``stsvend token encode --jsonl`` free
of the storage stack's import time.
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

COMMANDS: dict[str, str] = {}
