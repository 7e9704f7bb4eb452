"""The repository cites only documents it holds, and the sections it cites exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SKIP_DIRS = {".git", ".venv", ".hypothesis", "__pycache__", ".mypy_cache", ".ruff_cache",
              ".pytest_cache", ".benchmarks", "node_modules"}  # fmt: skip
_TEXT = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".json", ".rst", ".sh"}
_SECTION = re.compile(r"sts\.md`{0,2},? §(\d+(?:\.\d+)?)")


def _files() -> list[Path]:
    out = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(part in _SKIP_DIRS or part.endswith(".egg-info") for part in rel.parts):
            continue
        # The vector data keep each case's source as it was recorded: data, not citations.
        if rel.parts[0] == "vectors" and path.suffix == ".json":
            continue
        if path.is_file() and path.suffix in _TEXT:
            out.append(path)
    return sorted(out)


def test_nothing_cites_the_reference_the_repository_does_not_hold() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in _files()
        if p != Path(__file__) and "sts-reference" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_every_cited_section_of_docs_sts_exists() -> None:
    headings = set(
        re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", (ROOT / "docs/sts.md").read_text("utf-8"), re.M)
    )
    cited: dict[str, list[str]] = {}
    for path in _files():
        for section in _SECTION.findall(path.read_text(encoding="utf-8")):
            cited.setdefault(section, []).append(str(path.relative_to(ROOT)))
    assert len(cited) >= 10
    missing = {s: where for s, where in cited.items() if s not in headings}
    assert missing == {}
