"""The meter's state file, kept between runs (``<profile>.state.json``).

Written atomically (a temporary file, synced, renamed over the old one, then the folder synced)
after every step, so that a killed simulator or a power cut loses at most the step in progress.
The file holds the meter's current decoder key (key change tokens replace it), so it is created
readable by its owner only.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "m.state.json"
>>> store = StateStore(path)
>>> store.load() is None
True
>>> store.save({"format": "x"})
>>> store.load()["meter"]
{'format': 'x'}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from stsvend.meter import MeterStateError

__all__ = ["STATE_FILE_FORMAT", "StateStore"]

STATE_FILE_FORMAT = "stsvend-keypad-state"


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder holding the new name is synced.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StateStore:
    """Load and save one meter's snapshot."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        """The saved file's content, or None when there is none yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise MeterStateError(f"cannot read {self.path}: {err.strerror}") from None
        except UnicodeDecodeError:
            raise MeterStateError(f"{self.path} is not UTF-8 text; use --reset") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:  # JSONDecodeError, huge ints, deep nesting
            reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
            raise MeterStateError(f"{self.path} is not JSON ({reason}); use --reset") from None
        if not isinstance(data, dict) or data.get("format") != STATE_FILE_FORMAT:
            raise MeterStateError(f"{self.path} is not a stsvend-keypad state file; use --reset")
        return data

    def save(self, meter_snapshot: dict[str, Any]) -> None:
        data = {"format": STATE_FILE_FORMAT, "version": 1, "meter": meter_snapshot}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
            _sync_folder(self.path.parent)
        except OSError as err:
            raise MeterStateError(
                f"cannot save the meter state to {self.path}: {err.strerror}"
            ) from None
