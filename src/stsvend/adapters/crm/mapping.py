"""A CRM format's column mapping: which column of the file holds which stsvend field.

Each format ships a documented default (``mappings/FORMAT.toml`` beside this module);
``--mapping FILE`` gives another.  A mapping file has up to three tables: ``[file]``
(``delimiter``, ``encoding``, ``date_format`` as for ``strptime``, ``open_dates``: values that
mean "no date"), ``[columns]`` (stsvend field = the file's column) and ``[tariffs]`` (the CRM's
tariff type = a stsvend tariff code; a type not listed is the code itself).  The tables a file
gives replace the default's; ``[file]`` keys it leaves out keep the default's.

>>> m = default_mapping("isu")
>>> m.columns["contract"], m.date_format, "99991231" in m.open_dates
('VERTRAG', '%Y%m%d', True)
>>> mapping_from({"columns": {"customer": "BP"}}, m)
Traceback (most recent call last):
...
stsvend.adapters.crm.mapping.MappingError: the mapping names no column for contract, meter, tariff
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from attrs import frozen

from stsvend.errors import InputError
from stsvend.services.crm_rows import FIELDS, REQUIRED

__all__ = ["FORMATS", "CrmMapping", "MappingError", "default_mapping", "load_mapping",
           "mapping_from"]  # fmt: skip

#: The formats with a default mapping shipped here.
FORMATS = ("csv", "isu", "ise")
_FILE_KEYS = ("delimiter", "encoding", "date_format", "open_dates")


class MappingError(InputError):
    """A mapping file that cannot be used."""

    default_message = "the CRM mapping cannot be used"


@frozen
class CrmMapping:
    delimiter: str
    encoding: str
    date_format: str
    open_dates: frozenset[str]
    #: stsvend field -> the file's column.
    columns: Mapping[str, str]
    #: The CRM's tariff type -> stsvend tariff code.
    tariffs: Mapping[str, str]


def _text(doc: Mapping[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str):
        raise MappingError(f"[file] {name} must be text")
    return value


def mapping_from(doc: Mapping[str, Any], base: CrmMapping | None = None) -> CrmMapping:
    """A mapping from a parsed TOML document, over ``base`` (a format's default)."""
    unknown = sorted(set(doc) - {"file", "columns", "tariffs"})
    if unknown:
        raise MappingError(f"unknown table(s) in the mapping: {', '.join(unknown)}")
    given_file = doc.get("file", {})
    columns = doc.get("columns", None if base is None else base.columns)
    tariffs = doc.get("tariffs", {} if base is None else base.tariffs)
    if (
        not isinstance(given_file, Mapping)
        or not isinstance(columns, Mapping)
        or not isinstance(tariffs, Mapping)
    ):
        raise MappingError("[file], [columns] and [tariffs] must be tables")
    bad_keys = sorted(set(given_file) - set(_FILE_KEYS))
    if bad_keys:
        raise MappingError(f"unknown key(s) in [file]: {', '.join(bad_keys)}")
    merged: dict[str, Any] = {}
    if base is not None:
        merged = {
            "delimiter": base.delimiter,
            "encoding": base.encoding,
            "date_format": base.date_format,
            "open_dates": sorted(base.open_dates),
        }
    merged.update(given_file)
    missing_keys = [k for k in _FILE_KEYS if k not in merged]
    if missing_keys:
        raise MappingError(f"[file] needs {', '.join(missing_keys)}")
    delimiter = _text(merged, "delimiter")
    if len(delimiter) != 1:
        raise MappingError("[file] delimiter is one character")
    try:
        "".encode(_text(merged, "encoding"))
    except LookupError:
        raise MappingError("[file] encoding is not an encoding Python knows") from None
    dates = merged["open_dates"]
    if not isinstance(dates, list) or not all(isinstance(d, str) for d in dates):
        raise MappingError("[file] open_dates is a list of text")
    bad_fields = sorted(set(columns) - set(FIELDS))
    if bad_fields:
        raise MappingError(f"[columns] names unknown field(s) {', '.join(bad_fields)} "
                           f"(fields: {', '.join(FIELDS)})")  # fmt: skip
    if not all(isinstance(c, str) and c.strip() for c in columns.values()):
        raise MappingError("[columns] values are column names")
    named = set(columns.values())
    if len(named) != len(columns):
        raise MappingError("[columns] names one column for two fields")
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise MappingError(f"the mapping names no column for {', '.join(missing)}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tariffs.items()):
        raise MappingError("[tariffs] maps tariff types to tariff codes (text)")
    return CrmMapping(
        delimiter=delimiter, encoding=_text(merged, "encoding"),
        date_format=_text(merged, "date_format"), open_dates=frozenset(dates),
        columns={f: c.strip() for f, c in columns.items()}, tariffs=dict(tariffs),
    )  # fmt: skip


def default_mapping(fmt: str) -> CrmMapping:
    """The mapping shipped for format ``fmt``."""
    if fmt not in FORMATS:
        raise MappingError(f"no default mapping for format {fmt!r}")
    text = files("stsvend.adapters.crm").joinpath("mappings", f"{fmt}.toml").read_text("utf-8")
    return mapping_from(tomllib.loads(text))


def load_mapping(fmt: str, path: Path | None) -> CrmMapping:
    """The mapping of ``path`` over the format's default (or the default alone)."""
    base = default_mapping(fmt)
    if path is None:
        return base
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"cannot read the mapping {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"the mapping {path} is not TOML: {exc}") from None
    return mapping_from(doc, base)
