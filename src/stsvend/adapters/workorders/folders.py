"""The work-order folders: drop → working → done or rejected; results for the CRM.

The CRM (or its SFTP server) writes each file into the *drop* folder under its final name
(write under another name, then rename: a file is taken as soon as it has a ``.xml`` name).
The first step only moves it to *working* (a rename: the same file system); the next reads and
validates it and stores its orders in one transaction; then it moves to *done*.  A refused file
moves to *rejected* with ``NAME.reason`` beside it, and nothing of it is applied.  A file found
in *working* at the start of a round was left by a crash: it is taken again (storing an order
whose content is unchanged does nothing, so nothing is applied twice).

Results go to the *results* folder as ``ORDER.result.xml``, written under a temporary name and
renamed, so the CRM never reads half a file.

>>> Folders.from_settings({"drop": "/d", "working": "/w", "done": "/o", "rejected": "/r",
...                        "results": "/s"}).drop
PosixPath('/d')
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from attrs import frozen

from stsvend.adapters.registry import AdapterError
from stsvend.adapters.workorders.xmlfile import DEFAULT_MAX_BYTES, NS, read_file
from stsvend.errors import StsError
from stsvend.services.context import Actor, Services
from stsvend.services.workorders import WorkOrderFileError, record_failure, take_in

__all__ = ["FOLDERS", "Folders", "intake_round", "write_result"]

FOLDERS = ("drop", "working", "done", "rejected", "results")


@frozen
class Folders:
    drop: Path
    working: Path
    done: Path
    rejected: Path
    results: Path

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Folders:
        missing = [key for key in FOLDERS if not isinstance(settings.get(key), str)
                   or not settings.get(key)]  # fmt: skip
        if missing:
            raise AdapterError("[adapters.worker.workorders] needs the folders: "
                               + ", ".join(missing))  # fmt: skip
        return cls(*(Path(str(settings[key])).expanduser() for key in FOLDERS))

    def make(self) -> None:
        for folder in (self.drop, self.working, self.done, self.rejected, self.results):
            folder.mkdir(parents=True, exist_ok=True)


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists() or target.with_name(target.name + ".reason").exists():
        target = folder / f"{name}.{n}"
        n += 1
    return target


def _reject(folders: Folders, path: Path, reason: str) -> None:
    target = _free_name(folders.rejected, path.name)
    reason_file = target.with_name(target.name + ".reason")
    tmp = reason_file.with_name(reason_file.name + ".tmp")
    tmp.write_text(reason + "\n", encoding="utf-8")
    os.replace(tmp, reason_file)
    os.replace(path, target)


def _take(svc: Services, actor: Actor, folders: Folders, path: Path, max_bytes: int) -> None:
    try:
        orders = read_file(path, max_bytes=max_bytes)
        take_in(svc, actor, orders, source=path.name)
    except WorkOrderFileError as exc:
        _reject(folders, path, exc.message)
        record_failure(svc, step="validate", source_file=path.name, detail=exc.message)
        return
    except StsError as exc:
        if exc.code in ("storage", "permission"):
            raise  # not the file's fault: it stays in working for the next round
        reason = f"{path.name}: {exc.message}"
        _reject(folders, path, reason)
        record_failure(svc, step="store", source_file=path.name, detail=reason)
        return
    os.replace(path, _free_name(folders.done, path.name))


def intake_round(svc: Services, actor: Actor, folders: Folders, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, limit: int = 100) -> int:  # fmt: skip
    """Move the dropped files to working and take each in; the number of files handled."""
    left = sorted(p for p in folders.working.iterdir() if p.suffix == ".xml" and p.is_file())
    for path in sorted(folders.drop.iterdir())[:limit]:
        if path.suffix != ".xml" or not path.is_file() or path.is_symlink():
            continue
        target = _free_name(folders.working, path.name)
        os.replace(path, target)
        left.append(target)
    for path in left:
        _take(svc, actor, folders, path, max_bytes)
    return len(left)


def write_result(folders: Folders, order_id: str, doc: Mapping[str, Any]) -> Path:
    """Write an order's result for the CRM (atomically; the same result again overwrites)."""
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}workOrderResult")
    for key in ("order_id", "type", "state", "credit_transfer_units"):
        if doc.get(key) is not None:
            ET.SubElement(root, f"{{{NS}}}{key}").text = str(doc[key])
    installation = ET.SubElement(root, f"{{{NS}}}installation")
    for key, value in sorted(dict(doc.get("installation") or {}).items()):
        if value is not None:
            ET.SubElement(installation, f"{{{NS}}}{key}").text = str(value)
    target = folders.results / f"{order_id}.result.xml"
    tmp = target.with_name(target.name + ".tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, target)
    return target
