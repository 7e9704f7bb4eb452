"""Service results as documents: the one way a typed answer becomes JSON-ready data.

Every service returns frozen attrs values whose field names are the keys of its JSON form, so
the CLI's ``--json``, the server's bodies and the stored replay answers all come from
:func:`as_doc` and never from a second list of keys.

>>> import attrs
>>> from enum import Enum
>>> class Colour(Enum):
...     RED = "red"
>>> @attrs.frozen
... class Line:
...     kind: Colour
...     amounts: tuple[int, ...]
>>> as_doc(Line(Colour.RED, (1, 2)))
{'kind': 'red', 'amounts': [1, 2]}
>>> as_doc([Line(Colour.RED, ())])
[{'kind': 'red', 'amounts': []}]
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import attrs

__all__ = ["as_doc"]


def as_doc(value: Any) -> Any:
    """``value`` as plain data: attrs values become dicts of their fields, tuples and lists
    become lists, enums their values; mappings keep their keys; anything else is kept."""
    if attrs.has(type(value)):
        return {
            field.name: as_doc(getattr(value, field.name)) for field in attrs.fields(type(value))
        }
    if isinstance(value, (list, tuple)):
        return [as_doc(item) for item in value]
    if isinstance(value, dict):
        return {key: as_doc(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value
