"""Client request ids: when a repeated request is a replay, and when it is a mismatch.

A client names each request with an id so that a retry after a timeout gets the first answer
instead of a second token.  The answer is stored with a digest of the request's content
(:func:`request_digest`): a later request under the same id is answered as a replay only if its
digest is the same; any other content is refused with
:class:`~stsvend.errors.IdempotencyMismatch` (:func:`check_replay`).

The id's scope is a :class:`RequestKey`: the whole store today.  A server that serves several
vendors scopes ids per vendor by adding the vendor to the key (and to the store's unique
constraint), without changing the digest or the replay rule.

>>> a = request_digest("credit", {"meter": "01234567897", "amount": 5000, "currency": "ZAR"})
>>> b = request_digest("credit", {"currency": "ZAR", "amount": 5000, "meter": "01234567897"})
>>> a == b, len(a)
(True, 64)
>>> check_replay(Stored("credit", 7, a), "r1", kind="credit", meter_id=7, digest=a)
>>> c = request_digest("credit", {"meter": "01234567897", "amount": 6000, "currency": "ZAR"})
>>> check_replay(Stored("credit", 7, a, receipt=12), "r1", kind="credit", meter_id=7, digest=c)
Traceback (most recent call last):
...
stsvend.errors.IdempotencyMismatch: request id 'r1' was already used for a different request \
(receipt 12): a repeat must match the first request exactly; use a new request id
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from attrs import frozen

from stsvend.errors import IdempotencyMismatch, InputError

__all__ = [
    "DIGEST_VERSION",
    "REQUEST_ID_MAX_LENGTH",
    "Field",
    "RequestKey",
    "Stored",
    "check_replay",
    "parse_request_id",
    "request_digest",
]

#: Part of every digest: a change of what a digest covers gets a new version, never a silent
#: change of old digests' meaning.
DIGEST_VERSION = 1
#: The store's column width.
REQUEST_ID_MAX_LENGTH = 64

#: A field value in a request's content.
Field = str | int | bool | None


def parse_request_id(text: object) -> str:
    """A client request id: 1-64 printable ASCII characters without spaces.

    >>> parse_request_id("till-3/2026-05-01/0042")
    'till-3/2026-05-01/0042'
    """
    value = text if isinstance(text, str) else ""
    if not 1 <= len(value) <= REQUEST_ID_MAX_LENGTH or not all("!" <= c <= "~" for c in value):
        raise InputError(
            f"a request id is 1-{REQUEST_ID_MAX_LENGTH} printable ASCII characters without spaces"
        )
    return value


@frozen
class RequestKey:
    """What a request id is unique within: the store (a per-vendor scope joins it later)."""

    request_id: str

    @classmethod
    def parse(cls, text: object) -> RequestKey:
        return cls(parse_request_id(text))


def request_digest(kind: str, content: Mapping[str, Field]) -> str:
    """The SHA-256 (hex) of the request's canonical form: kind and content, keys sorted.

    ``content`` holds every field that changes the outcome (meter, amount, currency, reason,
    operator, terminal…), normalised the way the operation normalises them.
    """
    for name, value in content.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise TypeError(f"request field {name!r} is a {type(value).__name__}")
    doc = {"v": DIGEST_VERSION, "kind": kind, "content": dict(content)}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@frozen
class Stored:
    """What the store holds of the first request under an id."""

    kind: str
    meter_id: int | None
    #: None for answers stored before digests were kept.
    digest: str | None
    receipt: int | None = None


def check_replay(
    stored: Stored,
    request_id: str,
    *,
    kind: str,
    meter_id: int | None,
    digest: str,
    any_meter: bool = False,
) -> None:
    """Refuse unless the request is the stored one again.

    With a stored digest, the digests decide.  An answer stored without one (before digests
    were kept) replays when the kind and the meter match (``any_meter``: the caller does not
    know the meter yet).
    """
    same = (
        stored.digest == digest
        if stored.digest is not None
        else stored.kind == kind and (any_meter or stored.meter_id == meter_id)
    )
    if not same:
        where = "" if stored.receipt is None else f" (receipt {stored.receipt})"
        raise IdempotencyMismatch(
            f"request id {request_id!r} was already used for a different request{where}: "
            "a repeat must match the first request exactly; use a new request id"
        )
