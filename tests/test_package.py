"""Package-wide guards: the pure core's imports, ``__all__``, and every docstring example."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import stsvend

SHELL_DEPENDENCIES = (
    "click",
    "rich",
    "sqlalchemy",
    "alembic",
    "serial",
    "psycopg",
    "escpos",
    "fpdf",
    "starlette",
    "uvicorn",
    "httpx",
)


def _pure_modules() -> list[str]:
    names = ["stsvend", "stsvend.errors"]
    for pkg in ("stsvend.sts", "stsvend.meter", "stsvend.vending"):
        try:
            module = importlib.import_module(pkg)
        except ModuleNotFoundError:
            continue
        names.append(pkg)
        names += [m.name for m in pkgutil.iter_modules(module.__path__, pkg + ".")]
    return names


@pytest.mark.parametrize("module", ["stsvend", "stsvend.sts", "stsvend.meter", "stsvend.vending"])
def test_the_pure_core_loads_no_shell_dependency(module: str) -> None:
    code = (
        "import importlib, importlib.util, sys\n"
        f"if importlib.util.find_spec({module!r}) is None: sys.exit(0)\n"
        f"importlib.import_module({module!r})\n"
        f"loaded = [m for m in {SHELL_DEPENDENCIES!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"{module} imported {proc.stdout.strip()}"


@pytest.mark.parametrize("name", _pure_modules())
def test_every_module_declares_all_and_it_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.__all__ names missing {symbol}"


@pytest.mark.parametrize("name", _pure_modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_version() -> None:
    assert stsvend.__version__
