"""Files and folders stsvend writes outside the keystore, kept to their owner.

The data directory holds the database (token digits, PIN hashes) and the keystore, so it is
mode 0700: created so, and tightened when an earlier version or a hand-made folder left it
open.  An export of the token log may hold token digits, so it is written privately (0600) and
whole or not at all: into a temporary file beside the target, renamed over it only when the
export succeeded, and removed when it did not.

>>> import tempfile, pathlib, stat
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> target = folder / "log.csv"
>>> with private_output(target) as out:
...     _ = out.write("id\\n")
>>> target.read_text(), oct(stat.S_IMODE(target.stat().st_mode))
('id\\n', '0o600')
>>> try:
...     with private_output(folder / "half.csv") as out:
...         _ = out.write("id\\n")
...         raise RuntimeError("the export failed")
... except RuntimeError:
...     pass
>>> sorted(p.name for p in folder.iterdir())
['log.csv']
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from stsvend.errors import StsError

__all__ = [
    "DATA_DIR_MODE",
    "OutputFileError",
    "private_output",
    "secure_data_dir",
    "sync_folder",
]

DATA_DIR_MODE = 0o700


class OutputFileError(StsError):
    """A file the user asked for (an export) cannot be written; nothing of it is left."""

    code = "output_file"
    default_message = "the output file cannot be written"


def secure_data_dir(path: Path) -> int | None:
    """Tighten an existing data directory that group or others may enter to 0700; returns the
    mode it had when it was tightened, None when nothing changed (a missing folder is left to
    the command that creates it, with mode 0700)."""
    try:
        info = path.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(info.st_mode)
    if not stat.S_ISDIR(info.st_mode) or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return None
    try:
        path.chmod(DATA_DIR_MODE)
    except OSError:
        return None  # not ours to change: the files in it are still created 0600
    return mode


def sync_folder(path: Path) -> None:
    """fsync a folder, so that a file created or renamed in it survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def private_output(path: Path) -> Iterator[TextIO]:
    """A text file that becomes ``path`` (mode 0600) only if the block ends without error."""
    target = Path(path)
    try:
        # mkstemp creates the file 0600 and exclusively: no other user ever sees it open.
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputFileError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputFileError(f"cannot write {target}: {exc.strerror}") from None
        raise
    sync_folder(target.parent)
