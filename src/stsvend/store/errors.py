"""Errors of the storage layer: the ``StorageError`` branch of :class:`~stsvend.StsError`.

::

    StorageError                   the database cannot be reached or used     code "storage"
    ├── SchemaError                the database is not at the code's schema    code "storage"
    └── ConflictError              a concurrent writer got there first         code "storage"
    RecordNotFoundError            no meter, operator, sale… of that name      code "not_found"
    DuplicateRecordError           a record with that identity already exists  code "exists"

>>> RecordNotFoundError("no meter 01234567897").code
'not_found'
"""

from __future__ import annotations

from stsvend.errors import StsError

__all__ = [
    "ConflictError",
    "DuplicateRecordError",
    "FloatFloorError",
    "RecordNotFoundError",
    "SchemaError",
    "StorageError",
]


class StorageError(StsError):
    code = "storage"
    default_message = "the database cannot be used"


class SchemaError(StorageError):
    default_message = "the database schema is not current: run `stsvend init` (it migrates)"


class ConflictError(StorageError):
    default_message = "another terminal changed the same record at the same time: try again"


class FloatFloorError(ConflictError):
    """A debit would take a vendor's float slot below its floor (the services answer it with
    InsufficientFunds, after trying the vendor's other slots)."""

    default_message = "the vendor's float slot cannot cover the debit"


class RecordNotFoundError(StsError, LookupError):
    code = "not_found"
    default_message = "no such record"


class DuplicateRecordError(StsError, ValueError):
    code = "exists"
    default_message = "a record with that identity already exists"
