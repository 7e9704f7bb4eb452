"""The meter package's doctests, its export list, and the conformance table's references."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import stsvend.meter

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(m.name for m in pkgutil.iter_modules(stsvend.meter.__path__, "stsvend.meter."))


@pytest.mark.parametrize("name", ["stsvend.meter", *MODULES])
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_is_documented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__ and ">>>" in module.__doc__
    for public in module.__all__:
        assert hasattr(module, public), f"{name}.__all__ names a missing {public}"


def test_conformance_table_names_only_tests_that_exist() -> None:
    text = (ROOT / "docs" / "meter-conformance.md").read_text(encoding="utf-8")
    refs = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text))
    assert len(refs) >= 40
    for path, name in sorted(refs):
        source = (ROOT / path).read_text(encoding="utf-8")
        pattern = rf"^(?:def {name}\(|class {name}\b|{name} = )"
        assert re.search(pattern, source, re.M), f"{path}::{name} is missing"
