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

A key Python cannot name as an attribute (``from``, ``class``) is given by the field's
metadata; the attribute takes a trailing underscore:

>>> @attrs.frozen
... class Span:
...     from_: str = attrs.field(metadata=doc_key("from"))
>>> as_doc(Span("2026-01-01"))
{'from': '2026-01-01'}
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import attrs

__all__ = ["DOC_KEY", "as_doc", "doc_key"]

#: The metadata entry of an attrs field that names its key in the document (else its name).
DOC_KEY = "stsvend.doc_key"


def doc_key(key: str) -> dict[str, str]:
    """The metadata of a field whose key is ``key`` (a Python keyword: ``from``, ``class``)."""
    return {DOC_KEY: key}


def as_doc(value: Any) -> Any:
    """``value`` as plain data: attrs values become dicts of their fields (keyed by name, or by
    :data:`DOC_KEY` in the field's metadata), tuples and lists become lists, enums their
    values; mappings keep their keys; anything else is kept."""
    if attrs.has(type(value)):
        return {
            field.metadata.get(DOC_KEY, field.name): as_doc(getattr(value, field.name))
            for field in attrs.fields(type(value))
        }
    if isinstance(value, (list, tuple)):
        return [as_doc(item) for item in value]
    if isinstance(value, dict):
        return {key: as_doc(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value
