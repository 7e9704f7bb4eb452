"""JSON Schema (2020-12, the dialect of OpenAPI 3.1) of the services' answers, read from their
attrs classes: the schema of an answer is made from the same fields that
:func:`~stsvend.services.results.as_doc` makes its document from, so the two cannot drift.

A field's type hint gives its schema (``str``, ``int``, ``bool``, ``None`` and their unions,
tuples as arrays, mappings as objects, enums as their values, another attrs class as a
``$ref`` to its own component); its key is the document's (``doc_key``); a ``doc_optional``
field is not required, and cannot be null while its key is there unless it belongs to another
field's section; the ``#:`` comment above a field is its description.  Every class is closed
(``additionalProperties: false``): its document has its fields and nothing else.

>>> import attrs
>>> from stsvend.services.results import doc_key, doc_optional
>>> @attrs.frozen
... class Line:
...     '''One line, ``amount`` in minor units.'''
...     amount: int
...     kind: str = attrs.field(metadata=doc_key("class"))
...     note: str | None = attrs.field(default=None, metadata=doc_optional())
>>> components: dict[str, Any] = {}
>>> schema_of(tuple[Line, ...], components)
{'type': 'array', 'items': {'$ref': '#/components/schemas/Line'}}
>>> line = components["Line"]
>>> line["required"], line["properties"]["note"], line["description"]
(['amount', 'class'], {'type': 'string'}, 'One line, `amount` in minor units.')
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any

import attrs

from stsvend.services.results import DOC_IF, DOC_KEY

__all__ = ["REF_PREFIX", "class_schema", "field_comments", "schema_of"]

#: Where a component schema is referred to from.
REF_PREFIX = "#/components/schemas/"

_SIMPLE: dict[object, str] = {
    str: "string", int: "integer", bool: "boolean", float: "number", type(None): "null",
}  # fmt: skip
_COMMENT = re.compile(r"\s*#:\s?(.*)")
_FIELD = re.compile(r"\s*([A-Za-z_]\w*)\s*:")
_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]*\.)?([^`]+)`")
#: Which class each schema made here is of (by the schema's id), to refuse two of one name.
_OWNERS: dict[int, type] = {}


def _prose(text: str) -> str:
    """Docstring text as Markdown: roles become their target's last name, ``code`` `code`."""
    return _ROLE.sub(r"`\1`", text).replace("``", "`").strip()


def field_comments(cls: type) -> dict[str, str]:
    """The ``#:`` comment just above each field of ``cls`` or of the class it inherits the
    field from, by field name (lines joined).

    >>> from stsvend.services.receipt_model import SalePoint
    >>> field_comments(SalePoint)["float_left"][:40]
    "The vendor's float just after this sale,"
    >>> from stsvend.services.batches import KindTotals
    >>> field_comments(KindTotals)["count"]
    'How many operations.'
    """
    found: dict[str, str] = {}
    for each in cls.__mro__:  # the class's own comment first
        if attrs.has(each):
            for name, text in _own_comments(each).items():
                found.setdefault(name, text)
    return found


def _own_comments(cls: type) -> dict[str, str]:
    try:
        lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):  # no source (a class made at run time)
        return {}
    found: dict[str, str] = {}
    pending: list[str] = []
    for line in lines:
        comment = _COMMENT.match(line)
        if comment:
            pending.append(comment.group(1).strip())
            continue
        field = _FIELD.match(line)
        if field and pending:
            found.setdefault(field.group(1), _prose(" ".join(pending)))
        pending = []
    return found


def _enum_schema(cls: type[Enum]) -> dict[str, Any]:
    values = [member.value for member in cls]
    kinds = sorted({_SIMPLE[type(value)] for value in values})
    return {"type": kinds[0] if len(kinds) == 1 else kinds, "enum": values}


def _union(args: Sequence[Any], components: dict[str, Any]) -> dict[str, Any]:
    parts = [schema_of(arg, components) for arg in args]
    if all(set(part) == {"type"} for part in parts):  # plain types only: one "type" list
        kinds: list[str] = []
        for part in parts:
            for kind in part["type"] if isinstance(part["type"], list) else [part["type"]]:
                if kind not in kinds:
                    kinds.append(kind)
        return {"type": kinds[0] if len(kinds) == 1 else kinds}
    return {"anyOf": parts}


def schema_of(hint: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The schema of a value of type ``hint``; an attrs class is added to ``components`` (by
    its class name) and referred to.

    >>> schema_of(int | str | None, {})
    {'type': ['integer', 'string', 'null']}
    >>> schema_of(Mapping[str, int], {})
    {'type': 'object', 'additionalProperties': {'type': 'integer'}}
    >>> schema_of(tuple[int, str], {})["prefixItems"]
    [{'type': 'integer'}, {'type': 'string'}]
    """
    if hint is Any:
        return {}
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_schema(hint)
    if isinstance(hint, type) and attrs.has(hint):
        class_schema(hint, components)
        return {"$ref": REF_PREFIX + hint.__name__}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return _union(args, components)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": schema_of(args[0], components)}
    if origin is tuple:
        items = [schema_of(arg, components) for arg in args]
        return {"type": "array", "prefixItems": items, "minItems": len(items),
                "maxItems": len(items)}  # fmt: skip
    if origin in (list, Sequence, typing.Sequence):
        return {"type": "array", "items": schema_of(args[0], components)}
    if origin in (dict, Mapping, typing.Mapping) and args and args[0] is str:
        return {"type": "object", "additionalProperties": schema_of(args[1], components)}
    raise TypeError(f"no JSON schema for the type {hint!r}")


def _without_none(hint: Any) -> Any:
    args = typing.get_args(hint)
    if typing.get_origin(hint) not in (typing.Union, types.UnionType) or type(None) not in args:
        return hint
    rest = [arg for arg in args if arg is not type(None)]
    return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007  # built at run time


def class_schema(cls: type, components: dict[str, Any]) -> dict[str, Any]:
    """The component schema of the attrs class ``cls`` (added to ``components`` with every
    class it refers to, if not there yet)."""
    name = cls.__name__
    known = components.get(name)
    if known is not None:
        if _OWNERS.get(id(known)) is not cls:
            raise ValueError(f"two schemas are named {name}: rename one")
        return dict(known)
    schema: dict[str, Any] = {"type": "object"}
    components[name] = schema  # first: a class that refers back to itself finds it
    _OWNERS[id(schema)] = cls
    doc = cls.__dict__.get("__doc__")
    if doc:
        schema["description"] = _prose(inspect.cleandoc(doc).split("\n>>>")[0])
    hints = typing.get_type_hints(cls)
    comments = field_comments(cls)
    required: list[str] = []
    properties: dict[str, Any] = {}
    for field in attrs.fields(cls):
        key = field.metadata.get(DOC_KEY, field.name)
        hint = hints[field.name]
        if DOC_IF in field.metadata:
            if not field.metadata[DOC_IF]:  # the key is left out exactly while it is None
                hint = _without_none(hint)
        else:
            required.append(key)
        prop = schema_of(hint, components)
        if field.name in comments:
            prop = {**prop, "description": comments[field.name]}
        properties[key] = prop
    schema.update(required=required, properties=properties, additionalProperties=False)
    return schema
