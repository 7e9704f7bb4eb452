"""Reading the notice adapters' settings tables: typed values, secrets from the environment.

>>> number({"port": 2525}, "port", 25), number({}, "port", 25)
(2525, 25)
>>> number({"port": "x"}, "port", 25)
Traceback (most recent call last):
...
stsvend.adapters.registry.AdapterError: setting port must be a number, got 'x'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from stsvend.adapters.registry import AdapterError

__all__ = ["flag", "number", "secret", "text"]


def text(settings: Mapping[str, Any], key: str, default: str | None = None) -> str:
    """A string setting (``default`` None: it is required)."""
    value = settings.get(key, default)
    if value is None:
        raise AdapterError(f"setting {key} is required")
    if not isinstance(value, str):
        raise AdapterError(f"setting {key} must be text")
    return value


def number(settings: Mapping[str, Any], key: str, default: float) -> Any:
    """A number setting (an int stays an int)."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AdapterError(f"setting {key} must be a number, got {value!r}")
    if value < 0:
        raise AdapterError(f"setting {key} must not be negative")
    return value


def flag(settings: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = settings.get(key, default)
    if not isinstance(value, bool):
        raise AdapterError(f"setting {key} must be true or false")
    return value


def secret(settings: Mapping[str, Any], key: str) -> str | None:
    """The secret in the environment variable that setting ``key`` (ending in ``_env``) names;
    None when the setting is absent.  The value is never in the configuration file."""
    name = settings.get(key)
    if name is None:
        return None
    if not isinstance(name, str) or not name:
        raise AdapterError(f"setting {key} names an environment variable")
    value = os.environ.get(name)
    if not value:
        raise AdapterError(f"the environment variable {name} (setting {key}) is not set")
    return value
