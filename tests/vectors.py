"""One loader for the published vectors in ``vectors/`` (kept with their sources)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


@cache
def _load(name: str) -> tuple[dict[str, Any], ...]:
    cases = json.loads((VECTORS / name).read_text())
    for case in cases:
        assert case.get("source"), f"{case.get('id')} has no source"
    return tuple(cases)


def token_cases(*, refusals: bool | None = None) -> list[dict[str, Any]]:
    """Cases of tokens.json; ``refusals`` True/False keeps only refusals / only tokens."""
    cases = list(_load("tokens.json"))
    if refusals is not None:
        cases = [c for c in cases if ("error" in c) == refusals]
    return cases


def component_cases(kind: str) -> list[dict[str, Any]]:
    cases = [c for c in _load("components.json") if c["kind"] == kind]
    assert cases, f"no component case of kind {kind}"
    return cases


def parametrize(argname: str, cases: list[dict[str, Any]]) -> pytest.MarkDecorator:
    """``pytest.mark.parametrize`` over cases, with the case id as the test id."""
    return pytest.mark.parametrize(argname, cases, ids=[str(c["id"]) for c in cases])
