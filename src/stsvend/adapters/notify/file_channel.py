"""The ``file`` channel: notices appended to a file, or printed (the default channel).

Settings (``[adapters.notify.file]``, all optional): ``path``, the file to append to (without
it, standard output).  Each notice is a block headed by its message id; the file holds what the
notices say (token digits among it): keep it where the data directory's rules apply.

>>> import io
>>> out = io.StringIO()
>>> FileChannel(None, out).send(Outgoing("stsvend.sale.1.file", "C-1", "", "Hi", "Body\\n"))
>>> print(out.getvalue().strip())
--- stsvend.sale.1.file to customer C-1
Subject: Hi
<BLANKLINE>
Body
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from stsvend.adapters.notify.settings import text
from stsvend.services.notices.model import DeliveryError, Outgoing

__all__ = ["FileChannel", "factory"]


class FileChannel:
    """Appends each notice to a file (opened per notice: a rotated file is picked up)."""

    address = "none"

    def __init__(self, path: Path | None, stream: TextIO | None = None) -> None:
        self.path = path
        self.stream = stream

    def send(self, message: Outgoing) -> None:
        block = (f"--- {message.message_id} to customer {message.customer_number}\n"
                 f"Subject: {message.subject}\n\n{message.body}\n")  # fmt: skip
        if self.path is None:
            (self.stream or sys.stdout).write(block)
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write(block)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc.strerror}") from None

    def close(self) -> None:
        pass


def factory(settings: Mapping[str, Any]) -> FileChannel:
    path = settings.get("path")
    return FileChannel(Path(text(settings, "path")).expanduser() if path is not None else None)


factory.description = "notices appended to a file (or printed): the default"  # type: ignore[attr-defined]
