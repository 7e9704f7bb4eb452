"""Doctests of every keystore module, the export list, and the import weight."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import stsvend.keystore as keystore

MODULES = sorted(
    ["stsvend.keystore"]
    + [f"stsvend.keystore.{m.name}" for m in pkgutil.iter_modules(keystore.__path__)]
)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no doctest example"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert sorted(exported) == sorted(set(exported))
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"


def test_package_exports_are_sorted_and_complete() -> None:
    assert keystore.__all__ == sorted(keystore.__all__, key=lambda n: (not n.isupper(), n))


def test_keystore_loads_without_shell_dependencies() -> None:
    code = (
        "import sys, stsvend.keystore, stsvend.vending\n"
        "bad = [m for m in ('click', 'rich', 'sqlalchemy', 'alembic') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
