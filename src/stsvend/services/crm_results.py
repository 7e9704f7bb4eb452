"""What a CRM import answers: rows created, changed, unchanged and rejected, with reasons.

Every data row of the file is counted once: ``rows == created + changed + unchanged +
rejected``.  A rejected row is listed by its line with its reason; a reason never holds a value
of the row.  ``dropped_columns`` names the file's columns that no mapping uses: they were
not read into stsvend and are written nowhere.

>>> from stsvend.services.results import as_doc
>>> report = CrmImportReport("isu", 3, 1, 0, 1, 1, 1, 0, ("NAME_LAST",),
...                          (Rejection(4, "contract (VERTRAG) is empty"),))
>>> report.adds_up, as_doc(report)["rejections"]
(True, [{'line': 4, 'reason': 'contract (VERTRAG) is empty'}])
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["CrmImportReport", "Rejection"]


@frozen
class Rejection:
    """A row left out: its line (as an editor counts) and why."""

    line: int
    reason: str


@frozen
class CrmImportReport:
    """The outcome of one ``stsvend crm import``."""

    #: The adapter's name (``csv``, ``isu``, ``ise``).
    format: str
    #: Data rows read (the header not counted).
    rows: int
    #: Contracts new to stsvend (an account opened).
    created: int
    #: Contracts whose tariff, meter, premise or other numbers changed, or that moved out
    #: (the account closed, its balances kept).
    changed: int
    #: Rows that found everything as they say.
    unchanged: int
    rejected: int
    #: Meters new to stsvend, registered on their default key with the commissioning key
    #: change pending.
    meters_added: int
    #: Accounts closed because their customer moved out.
    closed: int
    #: The file's columns that no mapping names: dropped unread.
    dropped_columns: tuple[str, ...]
    rejections: tuple[Rejection, ...]

    @property
    def adds_up(self) -> bool:
        return self.rows == self.created + self.changed + self.unchanged + self.rejected
