"""The sale-point API's OpenAPI 3.1 description, made from Python: one :class:`Endpoint` a
route, the answers' schemas from their attrs classes (:mod:`stsvend.server.json_schema`).

``src/stsvend/server/openapi.json`` (served at ``GET /v1/openapi.json``) and
``docs/openapi.json`` are this module's output, written by
``python -m stsvend.server.api_spec --write`` (``--check`` says whether they are current); a
test fails while they differ from what it makes, so a changed answer class or a new endpoint
is in the description before it is merged.  docs/server.md says how to declare an endpoint.

>>> doc = document()
>>> doc["openapi"], sorted(doc["paths"]["/v1/purchases"]["post"]["responses"])[:3]
('3.1.0', ['200', '201', '401'])
>>> doc["components"]["schemas"]["TokenEntry"]["properties"]["class"]["type"]
'integer'
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from attrs import frozen

from stsvend.server.json_schema import REF_PREFIX, schema_of
from stsvend.server.problems import MEDIA_TYPE
from stsvend.services.receipt_model import SaleReceipt, TrialResult
from stsvend.services.sale_point import TENDERS, MeterLookup
from stsvend.services.vendors import VendorInfo

__all__ = [
    "ENDPOINTS", "PATH_PARAMETERS", "PROBLEMS", "Endpoint", "Field", "document", "main",
    "render",
]  # fmt: skip

_JSON = "application/json"


@frozen
class Field:
    """A request body's field or a query parameter: always a string (the server reads each
    strictly; an unknown one is refused with 422)."""

    name: str
    description: str
    required: bool = True
    #: The only values allowed (empty: any string).
    enum: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "description": self.description}
        if self.enum:
            out["enum"] = list(self.enum)
        return out


@frozen
class Endpoint:
    """One operation: ``answer`` is the attrs class the server answers with
    (:func:`~stsvend.services.results.as_doc` of it), or a JSON schema as a dict."""

    method: str
    path: str
    operation_id: str
    summary: str
    answer: type | Mapping[str, Any]
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
    description: str = ""
    media: str = _JSON
    #: Descriptions of its own for some refusals (else :data:`PROBLEMS`'s), by status.
    notes: Mapping[int, str] = attrs.field(factory=dict)
    #: Whole responses of its own, by status (a health check's 503 is no problem document).
    responses: Mapping[int, Mapping[str, Any]] = attrs.field(factory=dict)


#: What each path parameter is; a new one is added here.
PATH_PARAMETERS: dict[str, str] = {
    "meter": "The meter number (DRN): 11 or 13 digits.",
    "purchase_id": "The purchase id the terminal chose for the purchase (its vendor's own).",
    "number": "A receipt number of the terminal's vendor, or `last` for this terminal's last.",
}

#: What each refusal means in general (the problem's `code` says which exactly; docs/api.md).
PROBLEMS: dict[int, str] = {
    401: "unauthenticated: no valid, active credentials (WWW-Authenticate says the scheme)",
    402: "insufficient_funds: the vendor's float and credit limit cannot cover the purchase",
    403: "permission or meter_blocked: this terminal's role may not do this, or the meter is "
         "blocked",
    404: "not_found: no such meter, purchase or receipt of this vendor",
    409: "a rule refuses it: amount_too_small, amount_too_large, daily_limit, key_expired, "
         "idempotency_mismatch (the id was used for another request) …",
    413: "input: the request body is over 16 KiB",
    422: "input, money, identity, check_digit …: the request is malformed",
    429: "rate_limited: the key is over its rate, or the address failed authentication too "
         "often; ask again after Retry-After seconds",
    500: "error: the server did not expect this; the outcome is unknown (fetch it)",
    503: "storage: the database cannot be used now; the outcome is unknown (ask again)",
}  # fmt: skip

_METER = Field("meter", "The meter number (DRN): 11 or 13 digits.")
_AMOUNT = Field("amount", 'The money the customer pays, in major units as text ("50.00").')
_TENDER = Field("tender", "How the customer paid the vendor (default cash).", False, TENDERS)
_PURCHASE_ID = Field("purchase_id", "The terminal's id for this purchase, 1-64 characters: "
                     "the same id again gets the same answer, never a second sale.")  # fmt: skip
_STATUS = {"type": "object", "required": ["status"], "additionalProperties": False}

#: Every operation of the API, in the order of the description.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/health", "health", "Whether the server and its database answer",
             {**_STATUS, "properties": {"status": {"const": "ok"}}}, auth="none",
             responses={503: {"description": "the database does not answer", "content": {_JSON: {
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
    Endpoint("GET", "/v1/receipts/{number}", "reprint", "A copy of one of the vendor's receipts",
             SaleReceipt, problems=(404, 422)),
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

_INFO = {
    "title": "stsvend sale-point API",
    "version": "1.0.0-draft",
    "description": "Vendors' terminals sell STS prepayment tokens over HTTP (docs/api.md). "
    "Every endpoint but health needs a terminal key: Authorization: Bearer "
    "stv_<prefix>_<secret>. Generated by `python -m stsvend.server.api_spec --write`.",
}
_PROBLEM = {
    "type": "object",
    "description": "A refusal, as RFC 9457 problem details.",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:stsvend:problem:<code>"},
        "title": {"type": "string", "description": "What the code means."},
        "status": {"type": "integer", "description": "The HTTP status."},
        "code": {"type": "string", "description": "A stable code from the one table of error "
                 "codes (docs/architecture.md)."},
        "detail": {"type": "string", "description": "What was wrong with this request."},
    },
    "additionalProperties": False,
}  # fmt: skip
_HEADERS = {
    "RequestId": {
        "description": "The request's id: the client's X-Request-Id if it is 1-64 letters, "
        "digits and ._:- (starting with a letter or digit), else one the server made. It names "
        "the request in the access log.",
        "schema": {"type": "string", "maxLength": 64},
    },
    "RetryAfter": {
        "description": "Whole seconds (at least 1) to wait before asking again.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWWAuthenticate": {
        "description": "The scheme the credentials take: Bearer.",
        "schema": {"const": "Bearer"},
    },
}
_SECURITY = {
    "terminalKey": {"type": "http", "scheme": "bearer",
                    "description": "A terminal's key, shown once by `stsvend terminals add`."},
    "metricsToken": {"type": "http", "scheme": "bearer",
                     "description": "The server's metrics_token (docs/server.md), not a "
                     "terminal key."},
}  # fmt: skip
_REQUEST_ID = {
    "name": "X-Request-Id",
    "in": "header",
    "required": False,
    "description": "An id of the client's for this request, echoed in the answer and written "
    "to the access log; one that is not 1-64 letters, digits and ._:- (starting with a letter "
    "or digit) is replaced by one the server makes.",
    "schema": {"type": "string"},
}


def _header(*names: str) -> dict[str, Any]:
    """The answer's headers: X-Request-Id and ``names`` (each a component without its dashes)."""
    pairs = [("X-Request-Id", "RequestId"), *((name, name.replace("-", "")) for name in names)]
    return {name: {"$ref": f"#/components/headers/{ref}"} for name, ref in pairs}


def _problem(description: str, *headers: str) -> dict[str, Any]:
    return {"description": description, "headers": _header(*headers),
            "content": {MEDIA_TYPE: {"schema": {"$ref": REF_PREFIX + "Problem"}}}}  # fmt: skip


def _statuses(end: Endpoint) -> list[int]:
    statuses = set(end.problems)
    if end.auth != "none":
        statuses |= {401, 429}
    if end.auth == "terminal":
        statuses |= {500, 503}
    if end.body is not None:
        statuses |= {413, 422}
    return sorted(statuses)


def _operation(end: Endpoint, schemas: dict[str, Any]) -> dict[str, Any]:
    answer = (dict(end.answer) if isinstance(end.answer, Mapping)
              else schema_of(end.answer, schemas))  # fmt: skip
    op: dict[str, Any] = {"operationId": end.operation_id, "summary": end.summary}
    if end.description:
        op["description"] = end.description
    if end.auth == "none":
        op["security"] = []
    elif end.auth == "metrics":
        op["security"] = [{"metricsToken": []}]
    params: list[dict[str, Any]] = [{"$ref": "#/components/parameters/RequestId"}]
    for name in re.findall(r"\{(\w+)\}", end.path):
        params.append({"name": name, "in": "path", "required": True,
                       "description": PATH_PARAMETERS[name],
                       "schema": {"type": "string"}})  # fmt: skip
    for field in end.query:
        params.append({"name": field.name, "in": "query", "required": field.required,
                       "description": field.description, "schema": field.schema()})  # fmt: skip
    op["parameters"] = params
    if end.body is not None:
        body: dict[str, Any] = {
            "type": "object",
            "properties": {field.name: field.schema() for field in end.body},
            "additionalProperties": False,
        }
        required = [field.name for field in end.body if field.required]
        if required:
            body["required"] = required
        op["requestBody"] = {"required": bool(required), "content": {_JSON: {"schema": body}}}
    responses: dict[str, Any] = {}
    for status, meaning in end.ok.items():
        responses[str(status)] = {"description": meaning, "headers": _header(),
                                  "content": {end.media: {"schema": answer}}}  # fmt: skip
    for status in _statuses(end):
        extra = {401: ("WWW-Authenticate",), 429: ("Retry-After",)}.get(status, ())
        responses[str(status)] = _problem(end.notes.get(status, PROBLEMS[status]), *extra)
    for status, whole in end.responses.items():
        responses[str(status)] = dict(whole)
    op["responses"] = dict(sorted(responses.items()))
    return op


def document(endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> dict[str, Any]:
    """The OpenAPI 3.1 description of ``endpoints``."""
    schemas: dict[str, Any] = {"Problem": _PROBLEM}
    paths: dict[str, dict[str, Any]] = {}
    for end in endpoints:
        operations = paths.setdefault(end.path, {})
        if end.method.lower() in operations:
            raise ValueError(f"{end.method} {end.path} is declared twice")
        operations[end.method.lower()] = _operation(end, schemas)
    ids = [end.operation_id for end in endpoints]
    if len(ids) != len(set(ids)):
        raise ValueError("two endpoints have the same operationId")
    return {
        "openapi": "3.1.0",
        "info": _INFO,
        "paths": paths,
        "components": {
            "securitySchemes": _SECURITY,
            "schemas": dict(sorted(schemas.items())),
            "headers": _HEADERS,
            "parameters": {"RequestId": _REQUEST_ID},
        },
        "security": [{"terminalKey": []}],
    }


def render(doc: Mapping[str, Any]) -> str:
    """The document as written to the JSON files."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _targets() -> list[Path]:
    here = Path(__file__).resolve().parent
    docs = here.parents[2] / "docs"  # the source tree's docs/, not in an installed package
    return [here / "openapi.json", *([docs / "openapi.json"] if docs.is_dir() else [])]


def main(argv: list[str] | None = None) -> int:
    """``--write`` the JSON files, ``--check`` them (exit 1 if one is not current), or print
    the document."""
    parser = argparse.ArgumentParser(prog="python -m stsvend.server.api_spec")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help="write the JSON files")
    what.add_argument("--check", action="store_true", help="exit 1 if a file is not current")
    args = parser.parse_args(argv)
    text = render(document())
    if not (args.write or args.check):
        sys.stdout.write(text)
        return 0
    stale = [path for path in _targets()
             if not path.exists() or path.read_text("utf-8") != text]  # fmt: skip
    for path in stale:
        if args.write:
            path.write_text(text, "utf-8")
        print(f"{'wrote' if args.write else 'not current'}: {path}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
