"""The sale-point API's operations, one :class:`Endpoint` a route: what
:mod:`stsvend.server.api_spec` makes the OpenAPI description of.

A new route gets its ``Endpoint(...)`` in :data:`ENDPOINTS` (docs/server.md, *The API
description*); its answer is the attrs class the handler gives to
:func:`~stsvend.services.results.as_doc`, so its schema cannot drift from its JSON.

>>> [end.operation_id for end in ENDPOINTS if end.path.startswith("/v1/sessions")]
['logIn', 'logOut']
>>> Field("day", "A day.", format="date").schema()
{'type': 'string', 'description': 'A day.', 'format': 'date'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from attrs import frozen

from stsvend.services.advices import AdviceAnswer
from stsvend.services.batches import Batch, VendorDay
from stsvend.services.receipt_model import SaleReceipt, TrialResult
from stsvend.services.sale_point import TENDERS, MeterLookup
from stsvend.services.sessions import NewSession
from stsvend.services.vendor_statements import Statement
from stsvend.services.vendors import VendorInfo
from stsvend.services.workorders import AckAnswer

__all__ = ["ENDPOINTS", "JSON", "PATH_PARAMETERS", "Endpoint", "Field"]

JSON = "application/json"


@frozen
class Field:
    """A request body's field or a query parameter: always a string (the server reads each
    strictly; an unknown one is refused with 422)."""

    name: str
    description: str
    required: bool = True
    #: The only values allowed (empty: any string).
    enum: tuple[str, ...] = ()
    #: The string's JSON Schema format (``date``: YYYY-MM-DD), if any.
    format: str = ""

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "description": self.description}
        if self.enum:
            out["enum"] = list(self.enum)
        if self.format:
            out["format"] = self.format
        return out


@frozen
class Endpoint:
    """One operation: ``answer`` is the attrs class the server answers with
    (:func:`~stsvend.services.results.as_doc` of it), a JSON schema as a dict, or None for an
    answer without a body (204)."""

    method: str
    path: str
    operation_id: str
    summary: str
    answer: type | Mapping[str, Any] | None
    #: The success statuses and what each means.
    ok: Mapping[int, str] = attrs.field(factory=lambda: {200: "done"})
    #: The refusals this operation gives besides those of its credentials (401, 429) and of
    #: every terminal endpoint (500, 503); a body brings 413 and 422 too.
    problems: tuple[int, ...] = ()
    #: The JSON body's fields (None: no body; empty: nothing, or an empty object).
    body: tuple[Field, ...] | None = None
    query: tuple[Field, ...] = ()
    #: Who may call: "terminal" (a terminal key), "metrics" (the metrics token) or "none".
    auth: str = "terminal"
    #: A terminal endpoint's person's session (``X-Stsvend-Session``): "optional", "required"
    #: or "ignored" (a login opens a new one whatever the client held).
    session: str = "optional"
    description: str = ""
    media: str = JSON
    #: Descriptions of its own for some refusals (else the general ones), by status.
    notes: Mapping[int, str] = attrs.field(factory=dict)
    #: Whole responses of its own, by status (a health check's 503 is no problem document).
    responses: Mapping[int, Mapping[str, Any]] = attrs.field(factory=dict)


#: What each path parameter is; a new one is added here.
PATH_PARAMETERS: dict[str, str] = {
    "meter": "The meter number (DRN): 11 or 13 digits.",
    "purchase_id": "The purchase id the terminal chose for the purchase (its vendor's own).",
    "number": "A receipt number of the terminal's vendor, or `last` for this terminal's last.",
    "batch": "A batch number of the calling terminal's vendor: a whole number above 0.",
    "order_id": "The CRM's work order id: 1-40 letters, digits and ._-.",
}

_METER = Field("meter", "The meter number (DRN): 11 or 13 digits.")
_AMOUNT = Field("amount", 'The money the customer pays, in major units as text ("50.00").')
_TENDER = Field("tender", "How the customer paid the vendor (default cash).", False, TENDERS)
_PURCHASE_ID = Field("purchase_id", "The terminal's id for this purchase, 1-64 characters: "
                     "the same id again gets the same answer, never a second sale.")  # fmt: skip
_REQUEST_ID = Field("request_id", "The terminal's id for this request, 1-64 letters, digits "
                    "and ._:- (the vendor's own, like a purchase id): the same id with the same "
                    "content gets the same answer, never a second token.")  # fmt: skip
_STATUS = {"type": "object", "required": ["status"], "additionalProperties": False}
_ISSUED = {201: "issued now", 200: "the stored answer of an earlier request with this id "
           "(`replayed`: true); nothing was issued again"}  # fmt: skip
_ADVICE = {200: "recorded now, or the first answer again (`replayed`: true)"}
_ROLE = "permission: this terminal's role (or the person's) may not"
_NEVER_SEEN = ("not_found: no purchase with this id was ever received from this vendor: "
               "nothing was issued for it or taken from the float")  # fmt: skip
_ENGINEERING_KIND = Field("kind", "The engineering token: max-power-limit, clear-credit, "
                          "clear-tamper, phase-unbalance-limit or water-meter-factor.")  # fmt: skip

#: Every operation of the API, in the order of the description.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/health", "health", "Whether the server and its database answer",
             {**_STATUS, "properties": {"status": {"const": "ok"}}}, auth="none",
             responses={503: {"description": "the database does not answer", "content": {JSON: {
                 "schema": {**_STATUS, "properties": {"status": {"const": "unavailable"}}}}}}}),
    Endpoint("GET", "/v1/openapi.json", "openapi", "This document", {"type": "object"},
             auth="none", ok={200: "the OpenAPI description"}),
    Endpoint("GET", "/v1/vendor", "vendorFloat", "The calling terminal's vendor and its float",
             VendorInfo, ok={200: "the vendor"}),
    Endpoint("GET", "/v1/meters/{meter}", "lookupMeter", "Confirm the customer: whether the "
             "meter can be sold to now, its limits and debt", MeterLookup, problems=(404, 422)),
    Endpoint("POST", "/v1/trial", "trial", "The figures a purchase would give: no token, no "
             "money moved", TrialResult, problems=(403, 404, 409), body=(_METER, _AMOUNT)),
    Endpoint("POST", "/v1/purchases", "purchase", "Sell credit to a meter", SaleReceipt,
             ok={201: "issued now", 200: "the stored answer of an earlier request with this "
                 "purchase id (`replayed`: true); nothing was issued again"},
             problems=(402, 403, 404, 409), body=(_PURCHASE_ID, _METER, _AMOUNT, _TENDER)),
    Endpoint("GET", "/v1/purchases/{purchase_id}", "fetchPurchase", "Fetch a purchase's "
             "answer by its id", SaleReceipt, problems=(404, 422),
             notes={404: "not_found: no purchase with this id was ever received from this "
                         "vendor: it is safe to send it again"}),
    Endpoint("POST", "/v1/purchases/{purchase_id}/confirm", "confirmPurchase", "Advise that "
             "the purchase's token reached the customer", AdviceAnswer, ok=_ADVICE,
             problems=(403, 404, 409), body=(),
             notes={403: _ROLE + " sell", 404: _NEVER_SEEN,
                    409: "refused: the purchase was reversed, it is not confirmed"}),
    Endpoint("POST", "/v1/purchases/{purchase_id}/reverse", "reversePurchase", "Advise that "
             "the purchase's token did not reach the customer: the float gets the money back",
             AdviceAnswer, ok=_ADVICE, problems=(403, 404, 409),
             body=(Field("reason", "Why the token was not delivered: 5-500 characters."),),
             description="Under the vendor reversal policy (docs/server.md): within the "
             "window after the sale, within the day's cap, the account's latest sale only. "
             "The token cannot be revoked: a meter may still accept it.",
             notes={403: _ROLE + " sell", 404: _NEVER_SEEN,
                    409: "reversal: the reversal policy refuses it (the rule in the detail), "
                         "or the purchase was confirmed"}),
    Endpoint("GET", "/v1/receipts/{number}", "reprint", "A copy of one of the vendor's receipts",
             SaleReceipt, problems=(404, 422)),
    Endpoint("GET", "/v1/statement", "statement", "The calling terminal's vendor's float "
             "statement, from one local day to another (at most 31 days)", Statement,
             problems=(422,),
             query=(Field("since", "The first day, YYYY-MM-DD (default: `until`, or today).",
                          False, format="date"),
                    Field("until", "The last day, YYYY-MM-DD (default: today, or `since` if "
                          "later).", False, format="date")),
             notes={422: "input: a day that is not YYYY-MM-DD, the last before the first, "
                         "more than 31 days, another parameter or one given twice"}),
    Endpoint("GET", "/v1/batches/current", "currentBatch", "The calling terminal's open batch "
             "(the person's, under a session) and its totals so far", Batch, problems=(403, 404),
             notes={403: "permission: an installer's key has no batch",
                    404: "not_found: no batch is open: the next sale opens one"}),
    Endpoint("POST", "/v1/batches/close", "closeBatch", "Close the calling terminal's open "
             "batch: its totals for good", Batch, problems=(403, 409), body=(),
             notes={403: "permission: an installer's key has no batch",
                    409: "refused: no batch is open (or another close won)"}),
    Endpoint("GET", "/v1/batches/{batch}", "getBatch", "A batch of the calling terminal's "
             "vendor, open or closed, and its totals", Batch, problems=(404, 422),
             notes={404: "not_found: no such batch of this vendor (another vendor's is not "
                         "found either)"}),
    Endpoint("GET", "/v1/batches", "vendorDay", "The vendor's sales of one local day over all "
             "its terminals, and the batches they fell in (a supervisor's)", VendorDay,
             problems=(403, 422),
             query=(Field("day", "The local day, YYYY-MM-DD.", format="date"),),
             notes={403: _ROLE + " run reports"}),
    Endpoint("POST", "/v1/engineering", "engineeringToken", "An engineering token under a "
             "work order (an engineer's terminal)", SaleReceipt, ok=_ISSUED,
             problems=(403, 404, 409),
             body=(_REQUEST_ID, _METER, _ENGINEERING_KIND,
                   Field("work_order", "The work order's reference."),
                   Field("value", "Plain digits: what the kind sets (watts, a factor), where "
                         "it takes one.", False))),
    Endpoint("POST", "/v1/key-change", "keyChange", "The tokens of the meter's open key "
             "change, on their own (update meter key)", SaleReceipt, ok=_ISSUED,
             problems=(403, 404, 409), body=(_REQUEST_ID, _METER),
             notes={409: "key_change: the meter has no open key change; or "
                         "idempotency_mismatch"}),
    Endpoint("POST", "/v1/emergency-credit", "emergencyCredit", "The account's emergency "
             "credit: a token now, a debt later purchases repay", SaleReceipt, ok=_ISSUED,
             problems=(403, 404, 409), body=(_REQUEST_ID, _METER)),
    Endpoint("POST", "/v1/free-issue", "freeIssue", "Free units for a meter, with a reason (a "
             "supervisor's terminal)", SaleReceipt, ok=_ISSUED, problems=(403, 404, 409),
             body=(_REQUEST_ID, _METER,
                   Field("units", 'Units in steps of 0.1 of the meter\'s unit ("2.5").'),
                   Field("reason", "Why the units are given."))),
    Endpoint("POST", "/v1/sessions", "logIn", "A person logs in at the calling terminal with "
             "their PIN: the session's token, shown once", NewSession, session="ignored",
             ok={201: "the session is open (its token is in this answer only)"},
             problems=(403,),
             body=(Field("username", "The person's name."), Field("pin", "Their PIN."),
                   Field("new_pin", "A PIN of their own, when they must choose one.", False)),
             notes={401: "unauthenticated: no valid, active terminal key",
                    403: "permission (unknown name or wrong PIN, the same answer for both; "
                         "locked or disabled) or pin_change_required (send `new_pin`)",
                    422: "input or weak_pin: the body is malformed, or the new PIN too weak"}),
    Endpoint("DELETE", "/v1/sessions/current", "logOut", "End the session the request "
             "carries", None, session="required", ok={204: "the session is over"},
             problems=(422,), notes={422: "input: no session given"}),
    Endpoint("POST", "/v1/workorders/{order_id}/acks", "acknowledgeWorkOrder", "An "
             "installer's acknowledgement of a work order: started, supply interrupted, "
             "completed with the installation data (an installer's key)", AckAnswer,
             ok={200: "recorded now, or had already (`replayed`: true)"},
             problems=(403, 404, 409),
             body=(Field("event", "What happened.", enum=("started", "supply-interrupted",
                                                             "completed")),
                   Field("meter", "completed (installation, replacement): the meter installed, "
                         "its DRN.", False),
                   Field("model", "completed (installation, replacement): its model.", False),
                   Field("installed_on", "completed: the day of the work, YYYY-MM-DD.", False,
                         format="date"),
                   Field("removed_on", "completed (replacement, removal): the day the old "
                         "meter came out, YYYY-MM-DD.", False, format="date"),
                   Field("old_meter_credit", "completed (replacement): the old meter's "
                         'remaining credit in its unit, steps of 0.1 ("12.5").', False)),
             description="The order moves on: started, supply-interrupted, completed. A "
             "completion is applied to the store by the work-order worker (the meter "
             "registered or replaced, its commissioning key change queued) and its result goes "
             "back to the CRM.",
             notes={403: _ROLE + " acknowledge a work order (only an installer's key may)",
                    404: "not_found: no work order with this id",
                    409: "workorder: the order's state does not allow the event, or it was "
                         "completed with other data",
                    422: "input: a malformed body, a missing or malformed field of a "
                         "completion (meter number, model, day, credit)"}),
    Endpoint("GET", "/metrics", "metrics", "Prometheus metrics of the worker process that "
             "answers (and of the other workers, added up)", {"type": "string"}, auth="metrics",
             media="text/plain; version=0.0.4", problems=(404,), ok={200: "the metrics"},
             description="Text exposition format 0.0.4. Only when the server has a "
             "metrics_token; without one, 404. Failed tokens count against the address like "
             "failed terminal keys (docs/server.md).",
             notes={401: "unauthenticated: no metrics token or the wrong one",
                    404: "not_found: no metrics_token is configured: there is no such "
                         "endpoint"}),
)  # fmt: skip
