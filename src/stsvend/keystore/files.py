"""Files that hold secrets: written whole or not at all, mode 0600, one writer at a time.

* :func:`write_atomic` replaces a file so that a reader sees the old or the new one, never half
  (temporary file in the same folder, fsync, rename, fsync of the folder);
* :func:`create_exclusive` makes a new file that appears complete or not at all, and refuses to
  replace one that exists (written aside, then hard-linked into place);
* :func:`locked` holds an advisory lock on ``<file>.lock`` for a read-modify-write
  (:func:`lock_if_free` takes it only when nobody holds it);
* :func:`temp_files` and :func:`sweep_temp_files` find and remove what a writer killed
  mid-way left behind.

Folders are created with mode 0700, files with mode 0600.  A file is always written aside as
``.<name>.<random>.stsvend-tmp`` in its own folder, so that a writer killed before its rename
(``kill -9``, a power cut) leaves a file that can be recognised; such a file may hold the whole
keystore sealed under the KEK of that moment, so it is swept (under the file's lock, when no
writer can be busy) rather than left to outlive a change of KEK.

>>> import tempfile, pathlib, stat
>>> target = pathlib.Path(tempfile.mkdtemp()) / "secret.txt"
>>> with locked(target):
...     write_atomic(target, b"v1")
>>> target.read_bytes(), oct(stat.S_IMODE(target.stat().st_mode))
(b'v1', '0o600')
>>> create_exclusive(target, b"v2")
False
>>> (target.parent / ".secret.txt.k3ll3d00.stsvend-tmp").write_bytes(b"left by a kill")
14
>>> [p.name for p in temp_files(target)]
['.secret.txt.k3ll3d00.stsvend-tmp']
>>> with locked(target):
...     sweep_temp_files(target)
1
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "TEMP_SUFFIX",
    "create_exclusive",
    "lock_if_free",
    "locked",
    "sweep_temp_files",
    "temp_files",
    "write_atomic",
]

#: The suffix of every file written aside (``.<name>.<random>.stsvend-tmp``).
TEMP_SUFFIX = ".stsvend-tmp"
# Earlier versions wrote ``.<name>.<8 random characters>.tmp``: swept as well.
_TEMP_PATTERN = r"\.{name}\.[A-Za-z0-9_]+(?:\.stsvend-tmp|\.tmp)"


def _folder(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def _written_aside(path: Path, data: bytes) -> str:
    """A temporary file beside ``path`` holding ``data``, synced, mode 0600."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
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


@contextlib.contextmanager
def lock_if_free(path: Path) -> Iterator[bool]:
    """The lock of :func:`locked` if nobody holds it now (True), else False at once."""
    import fcntl

    _folder(path)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


def temp_files(path: Path) -> list[Path]:
    """Files written aside for ``path`` that are still there (sorted by name)."""
    pattern = re.compile(_TEMP_PATTERN.format(name=re.escape(path.name)))
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    return sorted(path.parent / name for name in names if pattern.fullmatch(name))


def sweep_temp_files(path: Path) -> int:
    """Remove the files written aside for ``path``; how many were removed.

    Call it holding :func:`locked` on ``path``: every writer writes under that lock, so any
    file found then was left by a writer that died.
    """
    removed = 0
    for temp in temp_files(path):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed += 1
    if removed:
        _sync_folder(path)
    return removed
