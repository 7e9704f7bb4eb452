"""Reading a CRM export through its mapping: only the mapped columns are taken.

The file is read as a stream, a record at a time.  Of each record only the cells of mapped
columns are picked (by position, from the header); the other cells are never looked at, never
kept and never written anywhere.  :attr:`MappedCsv.dropped` names those columns for the report.
A record of the wrong width, a date that is no date or a record the CSV reader refuses becomes
a :class:`~stsvend.services.crm_rows.RowRejected` with its line; the reason names the column,
never a value.

>>> import io
>>> from stsvend.adapters.crm.mapping import default_mapping
>>> text = "PARTNER,NAME_LAST,VERTRAG,GERNR,TARIFTYP,EINZDAT,AUSZDAT\\n" \\
...        "1000001,Doe,3000001,01234567897,FLAT,20240101,99991231\\n"
>>> src = MappedCsv("isu", default_mapping("isu"), io.StringIO(text))
>>> [(r.line, r.values["contract"], r.move_in, r.move_out) for r in src.rows()]
[(2, '3000001', datetime.date(2024, 1, 1), None)]
>>> src.dropped
('NAME_LAST',)
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime
from typing import TextIO

from stsvend.adapters.crm.mapping import CrmMapping
from stsvend.errors import InputError
from stsvend.services.crm_rows import REQUIRED, CrmRow, RowRejected

__all__ = ["CrmFileError", "MappedCsv"]

_DATES = ("move_in", "move_out")


class CrmFileError(InputError):
    """The file cannot be read on (its header, or text that is not of its encoding)."""

    default_message = "the CRM file cannot be read"


class MappedCsv:
    """One CRM export read through a mapping (a :class:`~stsvend.services.crm.CrmSource`)."""

    def __init__(self, fmt: str, mapping: CrmMapping, stream: TextIO) -> None:
        self.format = fmt
        self.mapping = mapping
        self._stream = stream
        self._dropped: tuple[str, ...] = ()
        self._dates: dict[str, date | None] = {}

    @property
    def dropped(self) -> tuple[str, ...]:
        return self._dropped

    def _header(self, reader: Iterator[list[str]]) -> dict[str, int]:
        try:
            header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        except StopIteration:
            raise CrmFileError("the file is empty: it needs a header row") from None
        except csv.Error as exc:
            raise CrmFileError(f"the header (line 1) is not CSV: {exc}") from None
        columns = self.mapping.columns
        missing = [f"{c} ({f})" for f, c in columns.items() if f in REQUIRED and c not in header]
        if missing:
            raise CrmFileError(f"the header has no column {', '.join(missing)} "
                               f"(the {self.format} mapping names them)")  # fmt: skip
        index = {f: header.index(c) for f, c in columns.items() if c in header}
        used = set(index.values())
        self._dropped = tuple(h for i, h in enumerate(header) if i not in used)
        self._width = len(header)
        return index

    def _date(self, text: str) -> date | None:
        # An export has few distinct dates: each is read once.
        try:
            return self._dates[text]
        except KeyError:
            pass
        value = text.strip()
        if not value or value in self.mapping.open_dates:
            found = None
        else:
            found = datetime.strptime(value, self.mapping.date_format).date()
        if len(self._dates) < 100_000:
            self._dates[text] = found
        return found

    def rows(self) -> Iterator[CrmRow | RowRejected]:
        reader = csv.reader(self._stream, delimiter=self.mapping.delimiter)
        line = 1
        try:
            index = self._header(reader)
            plain = [(f, i) for f, i in index.items() if f not in _DATES]
            dates = [(f, i) for f, i in index.items() if f in _DATES]
            tariff = index.get("tariff")
            tariffs = self.mapping.tariffs
            columns = {f: self.mapping.columns[f] for f in index}
            width = self._width
            while True:
                try:
                    record = next(reader)
                except StopIteration:
                    return
                except csv.Error:
                    line = reader.line_num
                    yield RowRejected(line, "the record is not CSV (a quote or a NUL out of "
                                            "place)")  # fmt: skip
                    continue
                line = reader.line_num
                if not record or (len(record) == 1 and not record[0].strip()):
                    continue  # a blank line is no row
                if len(record) != width:
                    yield RowRejected(line, f"{len(record)} values for {width} columns")
                    continue
                values = {f: record[i] for f, i in plain}
                if tariff is not None:
                    kind = values["tariff"].strip()
                    values["tariff"] = tariffs.get(kind, kind)
                found: dict[str, date | None] = {"move_in": None, "move_out": None}
                bad = None
                for f, i in dates:
                    try:
                        found[f] = self._date(record[i])
                    except ValueError:
                        bad = f
                        break
                if bad is not None:
                    yield RowRejected(line, f"{bad} ({columns[bad]}) is not a date "
                                            f"({self.mapping.date_format})")  # fmt: skip
                    continue
                yield CrmRow(line, values, found["move_in"], found["move_out"], columns)
        except UnicodeDecodeError:
            raise CrmFileError(
                f"the file is not {self.mapping.encoding} text after line {line}: the import "
                "stopped there, the chunks applied before stay (the import is idempotent: fix "
                "the file and import it again)"
            ) from None
