"""Errors as RFC 9457 problem details, from the one table of error codes.

Every refusal is an :class:`~stsvend.errors.StsError`; its ``code`` names its row in
:mod:`stsvend.error_codes`, which gives the HTTP status.  The body says the code, a title and
the error's message; never a stack trace.

>>> from stsvend.errors import InputError
>>> status, body = problem(InputError("a meter number has 11 or 13 digits"))
>>> status, body["code"], body["type"]
(422, 'input', 'urn:stsvend:problem:input')
"""

from __future__ import annotations

from typing import Any

from stsvend.error_codes import describe
from stsvend.errors import StsError

__all__ = ["MEDIA_TYPE", "internal_problem", "problem", "problem_of"]

#: The media type of a problem document (RFC 9457).
MEDIA_TYPE = "application/problem+json"


def problem_of(code: str, detail: str, status: int | None = None) -> tuple[int, dict[str, Any]]:
    """The status and body for an error ``code`` (its table row), with ``detail``."""
    row = describe(code)
    answer = row.http_status if status is None else status
    return answer, {
        "type": f"urn:stsvend:problem:{code}",
        "title": row.meaning,
        "status": answer,
        "code": code,
        "detail": detail,
    }


def problem(error: StsError) -> tuple[int, dict[str, Any]]:
    """The status and body for a refusal."""
    return problem_of(error.code, error.message)


def internal_problem() -> tuple[int, dict[str, Any]]:
    """An error the server did not expect: 500, and nothing about its cause."""
    return problem_of("error", "the server could not answer; the request may be tried again", 500)
