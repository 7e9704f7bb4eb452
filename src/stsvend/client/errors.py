"""What a sale-point client raises: the server said no, the server cannot be reached, or the
outcome of a purchase is not known.

::

    StsError
    ├── ServerRefused     the server's final refusal (4xx); ``code`` is the server's own
    ├── ServerUnavailable no answer, and the request never reached the server: nothing was done
    └── OutcomeUnknown    a purchase may or may not have been made: fetch it by its id later

A refusal keeps the server's problem document: its ``code`` (the one table of error codes,
:mod:`stsvend.error_codes`, so the CLI's exit code is the one a local sale would give), the
HTTP ``status`` and the ``detail``.

>>> refused = ServerRefused("insufficient_funds", 402, "the float is too low")
>>> refused.code, refused.status, str(refused)
('insufficient_funds', 402, 'the server refused (insufficient_funds): the float is too low')
>>> OutcomeUnknown("p-1").purchase_id
'p-1'
"""

from __future__ import annotations

from typing import Any

from stsvend.errors import StsError

__all__ = ["OutcomeUnknown", "ServerRefused", "ServerUnavailable"]


class ServerRefused(StsError):
    """The server refused the request for good (a 4xx other than 429): sending it again gets the
    same answer.  ``code`` is the problem document's code; ``status`` its HTTP status."""

    code = "refused"
    default_message = "the server refused the request"

    def __init__(self, code: str, status: int, detail: str, problem: dict[str, Any] | None = None,
                 ) -> None:  # fmt: skip
        super().__init__(f"the server refused ({code}): {detail}")
        self.code = code
        self.status = status
        self.detail = detail
        #: The whole problem document (empty when the body was not one).
        self.problem: dict[str, Any] = dict(problem or {})

    def __reduce__(self) -> Any:
        return (type(self), (self.code, self.status, self.detail, self.problem))


class ServerUnavailable(StsError):
    """No answer from the server, and nothing was done there: every attempt failed before the
    request reached it (the connection was refused), or the request only reads."""

    code = "unavailable"
    default_message = "the sale-point server cannot be reached: try again later"


class OutcomeUnknown(StsError):
    """The server may have made the purchase: it did not answer in time, nor did it answer the
    question afterwards.  Fetch it later (``fetch(purchase_id)``), or send the same purchase
    again with the same id: the server never sells twice under one id.  Never sell again under
    a new id before knowing."""

    code = "outcome_unknown"
    default_message = "the outcome of the purchase is not known"

    def __init__(self, purchase_id: str, message: str | None = None) -> None:
        super().__init__(message or (
            f"the server did not answer: purchase {purchase_id} may or may not have been made. "
            f"Do not sell again under a new id; ask again with the same id {purchase_id}"
        ))  # fmt: skip
        self.purchase_id = purchase_id

    def __reduce__(self) -> Any:
        return (type(self), (self.purchase_id, self.message))
