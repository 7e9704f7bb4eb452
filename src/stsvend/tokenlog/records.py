"""Sales, ledger lines and operation-log entries under the log key (sans-IO).

* A **sale** is recorded by a ``sale`` row in its meter's chain (the chain ``*`` for a sale of
  no meter), written in the same transaction and under the same chain-head lock as its tokens.
  The row's ``digest`` is the SHA-256 of a fixed rendering of every column of the sale and of
  its ledger lines in order, so a changed amount, tax or line, a line added or removed, breaks
  the row's MAC check without any lock beyond the meter's.
* An **operation-log entry** is chained per operator (``op:`` and the username):
  ``mac = HMAC(log key, "op" ‖ prev_mac ‖ canonical(entry))``.

>>> from datetime import UTC, date, datetime
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> sale = {name: None for name in SALE_FIELDS} | {"id": 7, "created_at": at,
...         "local_day": date(2026, 1, 1), "amount": 5000, "tax": 652, "result": {"a": 1}}
>>> digest = sale_digest(sale, [{"account_id": 1, "entry": "payment", "amount": 5000,
...                              "units": 0}])
>>> len(digest), digest == sale_digest(sale | {"tax": 0}, [])
(32, False)
>>> op_chain("ann")
'op:ann'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from stsvend.tokenlog.chain import LogKey

__all__ = [
    "LEDGER_FIELDS",
    "OP_CHAIN_PREFIX",
    "OP_FIELDS",
    "SALE_EVENT",
    "SALE_FIELDS",
    "SALE_POINT_FIELDS",
    "op_chain",
    "op_mac",
    "sale_digest",
    "statement_mac",
]

#: The token log event that records a sale.
SALE_EVENT = "sale"
#: Operation-log chains are named ``op:<operator>``.
OP_CHAIN_PREFIX = "op:"

#: Every column of a sale that its digest covers.
SALE_FIELDS: tuple[str, ...] = (
    "id",
    "request_id",
    "kind",
    "meter_id",
    "account_id",
    "operator_id",
    "shift_id",
    "terminal",
    "created_at",
    "local_day",
    "amount",
    "units",
    "tax",
    "reversal_of",
    "reason",
    "test",
    "result",
)
#: The columns of a sale-point sale the digest covers too (a sale at the store's own counter,
#: scope 0 and no vendor, is digested without them, as it was before they existed).
SALE_POINT_FIELDS: tuple[str, ...] = ("scope", "vendor_id")
#: Every column of a ledger line the digest covers (its sale is the digest's own).
LEDGER_FIELDS: tuple[str, ...] = ("account_id", "entry", "amount", "units")
#: Every column of an operation-log entry its MAC covers (besides its MACs and row id).
OP_FIELDS: tuple[str, ...] = (
    "chain",
    "seq",
    "at",
    "operator",
    "terminal",
    "action",
    "outcome",
    "target",
    "detail",
)

_SALE_DOMAIN = b"stsvend/records/sale/v1\x00"
_OP_DOMAIN = b"stsvend/op-log/entry/v1"
_STATEMENT_DOMAIN = b"stsvend/token-log/statement/v1"


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _AS_IS:  # most values: checked by exact type, before the subclass tests
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


_AS_IS = frozenset({str, int, bool, type(None), dict, list, float})


def _render(values: Mapping[str, Any], names: Sequence[str]) -> list[Any]:
    return [_plain(values.get(name)) for name in names]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sale_digest(sale: Mapping[str, Any], ledger: Sequence[Mapping[str, Any]]) -> bytes:
    """SHA-256 of the sale's columns and its ledger lines (in the order they were written)."""
    body = [_render(sale, SALE_FIELDS), [_render(line, LEDGER_FIELDS) for line in ledger]]
    if sale.get("scope") or sale.get("vendor_id") is not None:
        body.append(_render(sale, SALE_POINT_FIELDS))
    return hashlib.sha256(_SALE_DOMAIN + _dumps(body)).digest()


def op_chain(operator: str) -> str:
    """The chain of an operator's operation-log entries."""
    return OP_CHAIN_PREFIX + operator


def op_mac(key: LogKey, values: Mapping[str, Any], prev_mac: bytes) -> bytes:
    """The MAC of an operation-log entry (``values`` holds every name of OP_FIELDS)."""
    return key.tag(_OP_DOMAIN, prev_mac + _dumps(_render(values, OP_FIELDS)))


def statement_mac(key: LogKey, name: str, body: Mapping[str, Any]) -> bytes:
    """The MAC of a statement kept in the store (protection boundary, re-anchoring)."""
    return key.tag(_STATEMENT_DOMAIN, _dumps([name, dict(body)]))
