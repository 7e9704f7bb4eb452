"""A CRM import's rows as the services take them, and the checks that keep personal data out.

A CRM adapter (``stsvend.crm_importers``) maps its format's columns to the fields of
:data:`FIELDS` and hands each data row over as a :class:`CrmRow` (or a :class:`RowRejected`
when the format itself is wrong there, a date that is no date).  :func:`check` turns a row into
a :class:`CrmRecord` or rejects it.  An identifier whose content looks like personal data (an
e-mail address, a phone number, a name or an address: letters and spaces where a number
belongs) rejects the row, and no reason ever repeats the value: a reason names the field and
its column, and says what the value looks like.

>>> columns = {"customer": "PARTNER", "contract": "VERTRAG", "meter": "GERNR",
...            "tariff": "TARIFTYP"}
>>> row = CrmRow(2, {"customer": "1000001", "contract": "3000001",
...                  "meter": "01234567897", "tariff": "FLAT"}, None, None, columns)
>>> check(row).contract
'3000001'
>>> mail = CrmRow(3, {**row.values, "contract": "jane@example.org"}, None, None, columns)
>>> check(mail).reason
'contract (VERTRAG) looks like an e-mail address'
>>> phone = CrmRow(4, {**row.values, "contract": "+27 82 555 0199"}, None, None, columns)
>>> check(phone).reason
'contract (VERTRAG) looks like a phone number'
>>> check(CrmRow(5, {**row.values, "customer": "Jane Doe"}, None, None, columns)).reason
'customer (PARTNER) looks like a name or an address (letters and spaces)'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from attrs import frozen

from stsvend import sts
from stsvend.errors import StsError

__all__ = [
    "CODE_FIELDS",
    "FIELDS",
    "NUMBER_FIELDS",
    "REQUIRED",
    "CrmRecord",
    "CrmRow",
    "RowRejected",
    "check",
    "looks_personal",
]

#: The fields a CRM row may carry (a mapping names a column for each it uses).
FIELDS = (
    "customer", "contract", "contract_account", "installation", "premise", "division",
    "meter", "equipment", "tariff", "move_in", "move_out", "supply_group",
)  # fmt: skip
#: The fields every mapping must name a column for.
REQUIRED = ("customer", "contract", "meter", "tariff")
#: The fields that hold one of the CRM's numbers.
NUMBER_FIELDS = (
    "customer", "contract", "contract_account", "installation", "premise", "equipment",
)  # fmt: skip
#: The fields that hold a code (letters allowed, no spaces): the division (``01``, ``Strom``).
CODE_FIELDS = ("division",)

_LONGEST = 40
# A CRM number: digits, optionally after a short prefix of letters (``C-1001``, ``KA7``),
# grouped by - _ / . but never by spaces.
_NUMBER = re.compile(r"[A-Za-z]{0,4}[-_/.]?[0-9][0-9\-_/.]*")
_TARIFF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.]{0,31}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.]{0,39}")
_MAIL = re.compile(r"[^@\s]+@[^@\s]+")
# Digit groups with separators, or a leading + or (: how phone numbers are written.
_PHONE = re.compile(r"(\+|00|\()?[0-9()]{2,5}\)?([ \-/.][0-9]{2,5}){2,}|\+[0-9 ()\-/.]{6,}")


@frozen
class CrmRow:
    """One data row, mapped: the text of each mapped field (by field name), the dates already
    read by the format, and the source column of each field (for reasons)."""

    #: The line of the file the row ends on (as an editor counts).
    line: int
    values: Mapping[str, str]
    move_in: date | None
    move_out: date | None
    columns: Mapping[str, str]


@frozen
class RowRejected:
    """A row left out, with the reason (which never holds the row's values)."""

    line: int
    reason: str


@frozen
class CrmRecord:
    """A checked row: identifiers only."""

    line: int
    customer: str
    contract: str
    meter: str
    tariff: str
    contract_account: str | None = None
    installation: str | None = None
    premise: str | None = None
    division: str | None = None
    equipment: str | None = None
    move_in: date | None = None
    move_out: date | None = None
    supply_group: int | None = None


def looks_personal(value: str) -> str | None:
    """What ``value`` looks like if it looks like personal data, else None.

    >>> looks_personal("0821234567") is None, looks_personal("082-123-4567")
    (True, 'a phone number')
    """
    if "@" in value and _MAIL.fullmatch(value.strip()):
        return "an e-mail address"
    if _PHONE.fullmatch(value.strip()):
        return "a phone number"
    if any(c.isspace() for c in value.strip()) and any(c.isalpha() for c in value):
        return "a name or an address (letters and spaces)"
    return None


def _number_problem(value: str) -> str | None:
    if value.isdigit() and value.isascii() and len(value) <= _LONGEST:
        return None  # the usual case: digits alone are neither a name, an address nor a phone
    personal = looks_personal(value)
    if personal is not None:
        return f"looks like {personal}"
    if len(value) > _LONGEST:
        return f"is longer than {_LONGEST} characters"
    if _NUMBER.fullmatch(value):
        return None
    if any(c.isalpha() for c in value):
        return "has letters where a number belongs"
    return "has characters a number does not have"


def _meter_problem(value: str) -> tuple[str | None, str]:
    if not (value.isdigit() and value.isascii()):
        personal = looks_personal(value)
        if personal is not None:
            return f"looks like {personal}", ""
        if any(c.isalpha() for c in value):
            return "has letters where a meter number belongs", ""
    try:
        return None, sts.MeterIdentity.parse(None, value).drn
    except StsError:  # its message would repeat the value
        return "is not a meter number (11 or 13 digits with a valid check digit)", ""


def check(row: CrmRow) -> CrmRecord | RowRejected:
    """The row's record, or why it is rejected (the reason names fields, never values)."""
    values = row.values
    out: dict[str, object] = {}

    def named(field: str) -> str:
        column = row.columns.get(field)
        return f"{field} ({column})" if column and column != field else field

    for field in REQUIRED:
        if not values.get(field, "").strip():
            return RowRejected(row.line, f"{named(field)} is empty")
    for field in NUMBER_FIELDS:
        text = values.get(field, "").strip()
        if not text:
            continue
        problem = _number_problem(text)
        if problem is not None:
            return RowRejected(row.line, f"{named(field)} {problem}")
        out[field] = text
    for field in CODE_FIELDS:
        text = values.get(field, "").strip()
        if not text:
            continue
        if not _CODE.fullmatch(text):
            personal = looks_personal(text)
            what = f"looks like {personal}" if personal else "is not a code"
            return RowRejected(row.line, f"{named(field)} {what}")
        out[field] = text
    problem, drn = _meter_problem(values["meter"].strip())
    if problem is not None:
        return RowRejected(row.line, f"{named('meter')} {problem}")
    tariff = values["tariff"].strip()
    if not _TARIFF.fullmatch(tariff):
        personal = looks_personal(tariff)
        what = f"looks like {personal}" if personal else "is not a tariff code"
        return RowRejected(row.line, f"{named('tariff')} {what}")
    group = values.get("supply_group", "").strip()
    sgc = None
    if group:
        if not group.isascii() or not group.isdigit() or len(group) > 6:
            personal = looks_personal(group)
            what = f"looks like {personal}" if personal else "is not a supply group code"
            return RowRejected(row.line, f"{named('supply_group')} {what}")
        sgc = int(group)
    if row.move_in and row.move_out and row.move_out < row.move_in:
        return RowRejected(row.line, f"{named('move_out')} is before {named('move_in')}")
    return CrmRecord(
        line=row.line, meter=drn, tariff=tariff, move_in=row.move_in, move_out=row.move_out,
        supply_group=sgc, **out,  # type: ignore[arg-type]
    )  # fmt: skip
