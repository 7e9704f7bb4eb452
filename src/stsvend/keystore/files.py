"""Files that hold secrets: written whole or not at all, mode 0600, one writer at a time.

* :func:`write_atomic` replaces a file so that a reader sees the old or the new one, never half
  (temporary file in the same folder, fsync, rename, fsync of the folder);
* :func:`create_exclusive` makes a new file that appears complete or not at all, and refuses to
  replace one that exists (written aside, then hard-linked into place);
* :func:`locked` holds an advisory lock on ``<file>.lock`` for a read-modify-write.

Folders are created with mode 0700, files with mode 0600.

>>> import tempfile, pathlib, stat
>>> target = pathlib.Path(tempfile.mkdtemp()) / "secret.txt"
>>> with locked(target):
...     write_atomic(target, b"v1")
>>> target.read_bytes(), oct(stat.S_IMODE(target.stat().st_mode))
(b'v1', '0o600')
>>> create_exclusive(target, b"v2")
False
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["create_exclusive", "locked", "write_atomic"]


def _folder(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def _written_aside(path: Path, data: bytes) -> str:
    """A temporary file beside ``path`` holding ``data``, synced, mode 0600."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return temp


def _sync_folder(path: Path) -> None:
    # A rename or link is durable only once the folder holding it is synced.
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: readers see the old file or the new one, never half."""
    _folder(path)
    temp = _written_aside(path, data)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _sync_folder(path)


def create_exclusive(path: Path, data: bytes) -> bool:
    """Create ``path`` holding ``data``; False (and nothing written) if it already exists."""
    _folder(path)
    temp = _written_aside(path, data)
    try:
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        os.unlink(temp)
    _sync_folder(path)
    return True


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An advisory exclusive lock beside ``path`` (``<name>.lock``), held for the block."""
    import fcntl

    _folder(path)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
