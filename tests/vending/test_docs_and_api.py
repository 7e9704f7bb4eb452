"""Doctests of every vending module, export lists, purity, and the error codes."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil

import pytest

import stsvend.vending as vending
from stsvend.errors import StsError
from stsvend.vending import TokenPurpose, TokenSpec
from stsvend.vending import errors as vending_errors

MODULES = sorted(
    ["stsvend.vending"]
    + [f"stsvend.vending.{m.name}" for m in pkgutil.iter_modules(vending.__path__)]
)
#: Modules that read no clock, draw no random numbers and touch no file or socket.
FORBIDDEN_CALLS = {
    "now", "utcnow", "today", "time", "monotonic", "urandom", "randbelow",
    "token_bytes", "random", "randint", "open", "read_text", "write_text",
}  # fmt: skip
FORBIDDEN_IMPORTS = {"random", "secrets", "os", "socket", "sqlalchemy", "click", "rich", "time"}


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no doctest example"


@pytest.mark.parametrize("name", MODULES)
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    assert len(module.__all__) == len(set(module.__all__))
    for item in module.__all__:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"


@pytest.mark.parametrize("name", MODULES)
def test_the_domain_is_pure(name: str) -> None:
    tree = ast.parse(inspect.getsource(importlib.import_module(name)))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & FORBIDDEN_IMPORTS
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in FORBIDDEN_IMPORTS, node.module
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert called not in FORBIDDEN_CALLS, f"{name} calls {called}()"


def test_error_codes_are_stable_and_distinct() -> None:
    classes = [getattr(vending_errors, n) for n in vending_errors.__all__]
    assert all(issubclass(c, StsError) for c in classes)
    codes = {c.code for c in classes}
    assert len(codes) == len(classes)
    assert codes == {"vending", "vend_limit", "amount_too_small", "amount_too_large",
                     "daily_limit", "permission", "meter_blocked", "money", "tariff",
                     "emergency_credit", "free_issue", "reversal", "engineering", "key_change",
                     "time_zone", "rollover_required", "insufficient_funds"}  # fmt: skip
    for cls in classes:
        error = cls()
        assert str(error) == cls.default_message


def test_token_spec_fields_must_be_a_mapping() -> None:
    from stsvend.errors import FieldRangeError

    with pytest.raises(FieldRangeError):
        TokenSpec(0, 0, [1, 2], TokenPurpose.SALE)
