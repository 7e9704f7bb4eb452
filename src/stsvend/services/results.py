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

A key that only some documents have is left out while its field is None; a key that belongs
to another's section is there (null or not) exactly when that one is:

>>> @attrs.frozen
... class Answer:
...     kind: str
...     reason: str | None = attrs.field(default=None, metadata=doc_optional())
...     work: str | None = attrs.field(default=None, metadata=doc_optional())
...     value: int | None = attrs.field(default=None, metadata=doc_optional(present_with="work"))
>>> as_doc(Answer("sale")), as_doc(Answer("setting", work="WO-1"))
({'kind': 'sale'}, {'kind': 'setting', 'work': 'WO-1', 'value': None})
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import attrs

__all__ = ["DOC_IF", "DOC_KEY", "as_doc", "doc_key", "doc_optional"]

#: The metadata entry of an attrs field that names its key in the document (else its name).
DOC_KEY = "stsvend.doc_key"


def doc_key(key: str) -> dict[str, str]:
    """The metadata of a field whose key is ``key`` (a Python keyword: ``from``, ``class``)."""
    return {DOC_KEY: key}


#: The metadata entry of an attrs field whose key some documents lack: the key is left out
#: while the field it names is None ("": the field itself).
DOC_IF = "stsvend.doc_if"


def doc_optional(*, key: str | None = None, present_with: str = "") -> dict[str, str]:
    """The metadata of a field whose key some documents lack: left out while the field is None,
    or, with ``present_with``, while that field is None (a null that belongs to its section);
    ``key`` as for :func:`doc_key`."""
    return {DOC_IF: present_with} if key is None else {DOC_IF: present_with, DOC_KEY: key}


#: Per attrs class, its fields as (attribute, key, the attribute whose None leaves the key out).
_PLANS: dict[type, tuple[tuple[str, str, str | None], ...] | None] = {}


def _plan(cls: type) -> tuple[tuple[str, str, str | None], ...] | None:
    # Read once per class: a sale's answer is made into a document on every vend.
    if cls in _PLANS:
        return _PLANS[cls]
    plan = None
    if attrs.has(cls):
        plan = tuple(
            (
                field.name,
                field.metadata.get(DOC_KEY, field.name),
                None if DOC_IF not in field.metadata else field.metadata[DOC_IF] or field.name,
            )
            for field in attrs.fields(cls)
        )
    _PLANS[cls] = plan
    return plan


def as_doc(value: Any) -> Any:
    """``value`` as plain data: attrs values become dicts of their fields (keyed by name, or by
    :data:`DOC_KEY` in the field's metadata; an optional key left out as :data:`DOC_IF` says),
    tuples and lists become lists, enums their values; mappings keep their keys; anything else
    is kept."""
    plan = _plan(type(value))
    if plan is not None:
        return {
            key: as_doc(getattr(value, name))
            for name, key, guard in plan
            if guard is None or getattr(value, guard) is not None
        }
    if isinstance(value, (list, tuple)):
        return [as_doc(item) for item in value]
    if isinstance(value, dict):
        return {key: as_doc(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value
