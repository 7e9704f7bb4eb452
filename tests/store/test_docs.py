"""The shell layers' modules (store, token log, services, config, the clerk's CLI): each
declares ``__all__`` that resolves, and its docstring examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

_PACKAGES = ("stsvend.store", "stsvend.store.repos", "stsvend.tokenlog", "stsvend.services",
             "stsvend.adapters")
_SKIP = {"stsvend.store.migrations"}  # Alembic's env.py runs only under Alembic
_CLI = ("common", "receipt", "admin_cmds", "key_cmds", "registry_cmds", "sale_cmds",
        "keychange_cmds", "log_cmds", "demo", "registry")  # fmt: skip


def _modules() -> list[str]:
    names = ["stsvend.config"] + [f"stsvend_cli.{m}" for m in _CLI]
    for pkg in _PACKAGES:
        module = importlib.import_module(pkg)
        names.append(pkg)
        names += [
            m.name for m in pkgutil.iter_modules(module.__path__, pkg + ".") if m.name not in _SKIP
        ]
    return names


@pytest.mark.parametrize("name", _modules())
def test_all_resolves_and_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.__all__ names missing {symbol}"
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
