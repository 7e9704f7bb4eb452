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

from collections.abc import Callable
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


#: Values that are their own document (most fields): no further look at them.
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _compile(cls: type) -> Callable[[Any], dict[str, Any]]:
    """The function that makes a document of a ``cls`` value, written out field by field the
    way attrs writes its ``__init__``: a sale's answer becomes a document on every vend, and a
    loop over the fields would cost several times the straight code."""
    lines = ["def doc(value):", "    out = {}"]
    for field in attrs.fields(cls):
        key = field.metadata.get(DOC_KEY, field.name)
        indent = "    "
        if DOC_IF in field.metadata:
            lines.append(f"    if value.{field.metadata[DOC_IF] or field.name} is not None:")
            indent = "        "
        lines.append(f"{indent}item = value.{field.name}")
        lines.append(f"{indent}out[{key!r}] = item if type(item) in PLAIN else as_doc(item)")
    lines.append("    return out")
    scope: dict[str, Any] = {"PLAIN": _PLAIN, "as_doc": as_doc}
    exec("\n".join(lines), scope)  # the names are attrs fields' (identifiers), keys repr'd
    function: Callable[[Any], dict[str, Any]] = scope["doc"]
    return function


#: Per type, the function that makes its document (None: not an attrs class).
_PLANS: dict[type, Callable[[Any], dict[str, Any]] | None] = {}


def as_doc(value: Any) -> Any:
    """``value`` as plain data: attrs values become dicts of their fields (keyed by name, or by
    :data:`DOC_KEY` in the field's metadata; an optional key left out as :data:`DOC_IF` says),
    tuples and lists become lists, enums their values; mappings keep their keys; anything else
    is kept."""
    cls = type(value)
    if cls in _PLAIN:
        return value
    try:
        plan = _PLANS[cls]
    except KeyError:
        plan = _PLANS[cls] = _compile(cls) if attrs.has(cls) else None
    if plan is not None:
        return plan(value)
    if isinstance(value, (list, tuple)):
        return [as_doc(item) for item in value]
    if isinstance(value, dict):
        return {key: as_doc(item) for key, item in value.items()}
    if isinstance(value, Enum):
        return value.value
    return value
