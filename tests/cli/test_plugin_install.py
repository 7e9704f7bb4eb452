"""A third party's adapter, installed as a package, is found, listed and run.

The package is built once per test module as a wheel (written here: no build backend, no
download) and installed by pip into a directory of its own, which the runs put on their path:
a temporary environment that holds the plug-in beside the installed stsvend.  It declares two
entry points: a worker part that records each round in a file, and a notification channel
whose module does not import (listed as broken; the others still listed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli

DIST = "stsvend_plugin_heartbeat"
VERSION = "1.2.0"

_MODULE = '''
"""A worker part that appends one line to a file each round."""
from pathlib import Path


class Heartbeat:
    description = "writes a line to a file each round"
    settings_required = ("path",)
    name = "heartbeat"
    interval_seconds = 1.0

    def __init__(self, svc, actor, settings):
        self.path = Path(settings["path"])
        self.actor = actor.username

    def run_once(self):
        with self.path.open("a") as out:
            out.write(f"beat by {self.actor}\\n")
        return 1

    def close(self):
        with self.path.open("a") as out:
            out.write("closed\\n")
'''

_ENTRY_POINTS = """[stsvend.workers]
heartbeat = stsvend_heartbeat:Heartbeat

[stsvend.notification_channels]
pigeon = stsvend_heartbeat_missing:Pigeon
"""


def _record(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _wheel(out: Path) -> Path:
    info = f"{DIST}-{VERSION}.dist-info"
    files = {
        "stsvend_heartbeat.py": _MODULE.encode(),
        f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {VERSION}\n"
                             "Summary: a heartbeat worker part for stsvend\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
        f"{info}/entry_points.txt": _ENTRY_POINTS.encode(),
    }  # fmt: skip
    record = [_record(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    path = out / f"{DIST}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)
        whl.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return path


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("plugin")
    wheel = _wheel(root)
    target = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert (target / f"{DIST}-{VERSION}.dist-info" / "entry_points.txt").is_file()
    yield str(target)


def test_the_installed_plugin_is_listed_with_its_package_and_status(
    cli: Cli, plugin_path: str
) -> None:
    proc = cli.run_process("adapters", "list", "--json", PYTHONPATH=plugin_path)
    assert proc.returncode == 0, proc.stderr
    found = {(a["group"], a["name"]): a for a in json.loads(proc.stdout)["adapters"]}
    beat = found[("worker", "heartbeat")]
    assert beat["distribution"] == DIST and beat["version"] == VERSION
    assert beat["status"] == "not configured (needs: path)"
    assert beat["description"] == "writes a line to a file each round"
    assert found[("notify", "pigeon")]["status"].startswith("broken: ModuleNotFoundError")
    assert found[("worker", "keychange")]["status"] == "ready"  # ours, still there
    table = cli.run_process("adapters", "list", PYTHONPATH=plugin_path)
    assert "heartbeat" in table.stdout and "not configured (needs: path)" in table.stdout
    without = cli.run_process("adapters", "list", "--json")
    assert "heartbeat" not in without.stdout  # not installed in this environment


def test_the_configured_plugin_runs_under_the_worker(
    cli: Cli, plugin_path: str, tmp_path: Path
) -> None:
    beats = tmp_path / "beats.txt"
    config = tmp_path / "config.toml"
    config.write_text(f'[adapters.worker.heartbeat]\npath = "{beats}"\n')
    listed = cli.run_process("adapters", "list", "--group", "worker", "--json",
                             PYTHONPATH=plugin_path, STSVEND_CONFIG=str(config))  # fmt: skip
    status = {a["name"]: a["status"] for a in json.loads(listed.stdout)["adapters"]}
    assert (status["heartbeat"], status["keychange"]) == ("ready", "ready")
    proc = cli.run_process("worker", "--once", "--part", "heartbeat", role="engineer",
                           PYTHONPATH=plugin_path, STSVEND_CONFIG=str(config))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "1 items handled" in proc.stdout
    assert beats.read_text() == "beat by engineer\nclosed\n"
    unconfigured = cli.run_process("worker", "--once", "--part", "heartbeat", role="engineer",
                                   PYTHONPATH=plugin_path)  # fmt: skip
    assert unconfigured.returncode == 8
    assert "'heartbeat' is not configured (needs: path)" in unconfigured.stderr
    broken = cli.run_process("worker", "--once", "--part", "pigeon", role="engineer",
                             PYTHONPATH=plugin_path)  # fmt: skip
    assert broken.returncode == 8 and "no worker adapter 'pigeon'" in broken.stderr
