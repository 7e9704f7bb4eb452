"""Every example in the README and ``docs/`` runs as written.

Fenced blocks are the examples:

* ``python``: run (a block with ``>>>`` prompts as a doctest, its output checked);
* ``sh`` and ``console``: every command runs with bash in a folder of its own and must succeed;
  in a block whose commands start with ``$ ``, the lines under a command are its expected output
  (each must appear in what it printed, spaces aside);
* ``toml`` and ``json``: must parse (a ``json`` block of one object per line, line by line).

The line just before a block may say where it runs, as an HTML comment that the reader does not
see: ``<!-- example: installation as ROLE -->`` (the default, as ``admin``: a copy of the test
installation of ``tests/cli/conftest.py``: supply group 123456, meters, one operator per role,
at terminal T1), ``<!-- example: fresh -->`` (an empty data directory, as a new user's: the PIN
prompts are answered from ``STSVEND_PIN``, the key-encryption key is in ``STSVEND_KEK``),
``<!-- example: demo as ROLE -->`` (a fresh data directory where ``stsvend demo`` ran, logged in
as its TEST operator of that role with the PIN the demo printed), or
``<!-- example: not run: REASON -->`` where REASON is one of :data:`NOT_RUN_REASONS` (an example
that needs a running service or a terminal, or installs the package).  The marks are counted,
so that an example cannot quietly stop running.  The commands run on the real clock; examples
whose output depends on time give the time themselves (a TID, a manufacture date).
"""

from __future__ import annotations

import doctest
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import KEK, PINS, STSVEND, Backend

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "vectors" / "README.md"]
#: Why an example may not run here.
NOT_RUN_REASONS = (
    "needs a running service",
    "needs a terminal",
    "installs stsvend",
    "runs the benchmarks",
    "runs the test suite",
)
_FENCE = re.compile(r"^```(?P<lang>[a-z]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_MARK = re.compile(r"<!-- example: (?P<mark>.+?) -->\s*$")
_END = "@@docs-example-end@@"


@dataclass(frozen=True)
class Example:
    path: Path
    line: int
    lang: str
    body: str
    mark: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _examples() -> list[Example]:
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            mark = _MARK.match(before.strip())
            line = text.count("\n", 0, match.start()) + 1
            found.append(Example(path, line, match["lang"], match["body"],
                                 mark["mark"] if mark else ""))  # fmt: skip
    return found


EXAMPLES = _examples()
RUN = [e for e in EXAMPLES if e.lang in {"python", "sh", "console"}]


def _commands(body: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of a shell block, continuation lines joined."""
    lines = body.splitlines()
    console = any(line.startswith("$ ") for line in lines)
    out: list[tuple[str, list[str]]] = []
    pending = ""
    for line in lines:
        if pending:
            pending += "\n" + line
        elif console and line.startswith("$ "):
            pending = line[2:]
        elif console:
            if out and line.strip():
                out[-1][1].append(line)
            continue
        elif line.strip() and not line.lstrip().startswith("#"):
            pending = line
        else:
            continue
        if not pending.endswith("\\"):
            out.append((pending, []))
            pending = ""
    return out


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    backend = Backend("sqlite", tmp_path_factory.mktemp("docs"))
    try:
        yield backend
    finally:
        backend.close()


def _environment(example: Example, installation: Backend, folder: Path) -> dict[str, str]:
    mark = example.mark or "installation as admin"
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    if mark == "fresh" or mark.startswith("demo as "):
        env = {k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")}
        env.update(STSVEND_DATA_DIR=str(folder / "data"), COLUMNS="200",
                   STSVEND_PIN=PINS["admin"], STSVEND_KEK=KEK)  # fmt: skip
        if mark.startswith("demo as "):
            role = mark.removeprefix("demo as ").strip()
            proc = subprocess.run([*STSVEND, "demo", "--json"], capture_output=True, text=True,
                                  env=env, timeout=300, check=True)  # fmt: skip
            pins = {o["role"]: o for o in json.loads(proc.stdout)["operators"]}
            env.update(STSVEND_OPERATOR=pins[role]["name"], STSVEND_PIN=pins[role]["pin"])
    else:
        role = mark.removeprefix("installation as ").strip()
        assert role in PINS, f"{example.id}: unknown mark {example.mark!r}"
        cli = installation.copy(folder / "data")
        env = cli.base_env(role)
    env["PATH"] = path
    return env


@pytest.mark.parametrize("example", RUN, ids=[e.id for e in RUN])
def test_the_example_runs_as_written(
    example: Example, installation: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if example.mark.startswith("not run: "):
        reason = example.mark.removeprefix("not run: ")
        assert reason.startswith(NOT_RUN_REASONS), f"{example.id}: {reason!r} is no reason"
        pytest.skip(f"{example.id}: {reason}")
    monkeypatch.chdir(tmp_path)
    if example.lang == "python":
        if ">>>" in example.body:
            test = doctest.DocTestParser().get_doctest(example.body, {}, example.id,
                                                       str(example.path), example.line)  # fmt: skip
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            runner.run(test)
            assert runner.summarize(verbose=False).failed == 0, example.id
        else:
            exec(compile(example.body, example.id, "exec"), {"__name__": "__docs__"})
        return
    commands = _commands(example.body)
    assert commands, f"{example.id}: no command"
    script = "".join(f"{command}\necho {_END} $?\n" for command, _ in commands)
    env = _environment(example, installation, tmp_path)
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=600,
                          env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)  # fmt: skip
    outputs = re.split(rf"^{_END} (\d+)$\n?", proc.stdout, flags=re.M)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    ran = list(zip(outputs[0::2], outputs[1::2], strict=False))
    assert len(ran) == len(commands), (example.id, proc.stdout, proc.stderr)
    for (command, expected), (printed, code) in zip(commands, ran, strict=True):
        assert code == "0", (example.id, command, printed, proc.stderr)
        for line in expected:
            assert _squash(line) in _squash(printed), (example.id, command, line, printed)


DATA = [e for e in EXAMPLES if e.lang in {"toml", "json"}]


@pytest.mark.parametrize("example", DATA, ids=[e.id for e in DATA])
def test_the_data_example_parses(example: Example) -> None:
    if example.lang == "toml":
        tomllib.loads(example.body)
        return
    try:
        json.loads(example.body)
    except json.JSONDecodeError:
        for line in example.body.splitlines():
            if line.strip():
                json.loads(line)


def test_examples_not_run_are_few_and_said_why() -> None:
    skipped = [e for e in EXAMPLES if e.mark.startswith("not run: ")]
    assert all(e.mark.removeprefix("not run: ").startswith(NOT_RUN_REASONS) for e in skipped)
    assert len(skipped) <= 9, [e.id for e in skipped]
    assert len(RUN) >= 20, len(RUN)
