"""The API against its own description, by schemathesis: requests made from the OpenAPI
document (valid ones and, from the same schemas, invalid ones) go to a real ``stsvend serve``
on SQLite and on PostgreSQL, without credentials, with a wrong key, with a clerk's, an
engineer's and an installer's key.  Whatever the request, the server never answers 5xx, every
status it answers is documented for the operation, every body has the documented media type and
schema (a refusal is a problem document), and an invalid request is refused with a 4xx.

A session header drawn at random is refused (401 ``session_expired``) before the operation
runs, so the keys send such a request again without it.

Random meters and amounts are refused (404, 422), so a second test draws from a copy of the
description narrowed to the installation's own meters, a few amounts, purchase ids and days:
those purchases are sold, repeated, refused by the limits or the float, confirmed and
reversed, and their receipts, the advices' answers, the statement, the open batch and the
vendor's day (a supervisor's terminal) checked against the schemas made from the attrs
classes.

The number of examples is small and the generation derandomized: the whole module takes
about a minute for both backends with ``-n 2``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from stsvend.server.api_spec import document
from tests.cli.conftest import M
from tests.server.conftest import Served

METRICS_TOKEN = "metrics-token-for-the-schema-test"
#: Off: the rate limit and the throttle on failed authentication (a wrong key is sent on
#: purpose, hundreds of times: the address would be refused with 429 from the 21st).
SERVER_ENV = {
    "STSVEND_SERVER_RATE_PER_SECOND": "0",
    "STSVEND_SERVER_AUTH_FAILURES": "1000000",
    "STSVEND_METRICS_TOKEN": METRICS_TOKEN,
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,  # 405 with its Allow header (RFC 9110)
]
WRONG_KEY = "stv_000000000000_" + "0" * 32
SESSION_HEADER = "x-stsvend-session"
BOSS = "SHOP1/BOSS-1"
INSTALLER = "SHOP1/INST-1"
SESSION_PARAMETER = "#/components/parameters/Session"
SETTINGS = settings(
    max_examples=50,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _schema(doc: dict[str, Any], *modes: GenerationMode) -> Any:
    schema = schemathesis.openapi.from_dict(doc)
    schema.config.generation.update(with_security_parameters=False, modes=list(modes) or None)
    return schema


def _narrowed() -> dict[str, Any]:
    """The description with the sale-point operations' inputs drawn from this installation's
    meters (one unknown), a few amounts, a few purchase ids (so that some repeat and are
    confirmed or reversed) and the days around today; without a person's session (the
    terminal sells)."""
    doc = copy.deepcopy(document())
    meters = {"enum": [M[1], M[2], M[3], M[4], M[7]]}
    today = datetime.now(UTC).date()
    days = {"enum": [(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]}
    narrow: dict[str, dict[str, Any]] = {
        "meter": meters,
        "amount": {"enum": ["10", "25.50", "0.01", "5000", "abc"]},
        "purchase_id": {"pattern": "^st-[0-9]$"},
        "number": {"enum": ["last", "1", "2", "999"]},
        "since": days,
        "until": days,
        "day": days,
        "reason": {"enum": ["never reached the customer", "no"]},
    }
    # Half the purchases confirmed, the other half for reversal (a confirmed one is not).
    advised = {"confirm": "^st-[0-4]$", "reverse": "^st-[5-9]$"}
    for path, operations in doc["paths"].items():
        advice = advised.get(path.rpartition("/")[2])
        for op in operations.values():
            op["parameters"] = [param for param in op["parameters"]
                                if param.get("$ref") != SESSION_PARAMETER]  # fmt: skip
            for param in op["parameters"]:
                if param.get("name") in narrow:
                    param["schema"] = {"type": "string", **narrow[param["name"]]}
                if param.get("name") == "purchase_id" and advice:
                    param["schema"] = {"type": "string", "pattern": advice}
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            for name, prop in (body["schema"]["properties"] if body else {}).items():
                prop.update(narrow.get(name, {}))
    return doc


Test = Callable[..., None]
#: A test per operation, of the description as served, in both modes (valid and invalid).
every_operation: Callable[[Test], Test] = _schema(document()).parametrize()
#: A test per sale-point operation (and the advices, the statement and the open batch that
#: follow sales), of the narrowed description, valid requests only.
every_sale: Callable[[Test], Test] = (
    _schema(_narrowed(), GenerationMode.POSITIVE)
    .include(path_regex="^/v1/(meters|trial|purchases|receipts|statement$|batches(/current)?$)")
    .parametrize()
)


@pytest.fixture(scope="module", autouse=True)
def _boss(served: Served) -> None:
    """A supervisor's terminal of SHOP1 (the base has none), for the vendor's day."""
    out = served.cli.ok("terminals", "add", "SHOP1", "BOSS-1", "--role", "supervisor", "--json")
    served.keys[BOSS] = json.loads(out)["key"]
    out = served.cli.ok("terminals", "add", "SHOP1", "INST-1", "--role", "installer", "--json")
    served.keys[INSTALLER] = json.loads(out)["key"]


def _headers(served: Served, who: str, path: str) -> dict[str, str]:
    if who == "none":
        return {}
    if who == "wrong":
        return {"Authorization": f"Bearer {WRONG_KEY}"}
    key = METRICS_TOKEN if path == "/metrics" else served.keys[who]
    return {"Authorization": f"Bearer {key}"}


@every_operation
@SETTINGS
def test_every_answer_is_documented(case: Any, served: Served) -> None:
    callers = ["none", "wrong", "SHOP1/TILL-1", "SHOP1/ENG-1", INSTALLER]
    for who in callers:
        _check(case, served, who)
    # A session drawn at random is refused (401 session_expired) before the operation runs:
    # the keys once more without it, so that the operation's own answers are checked too.
    drawn = [name for name in case.headers or {} if name.lower() == SESSION_HEADER]
    for name in drawn:
        del case.headers[name]
    for who in callers[2:] if drawn else []:
        _check(case, served, who)


def _check(case: Any, served: Served, who: str) -> None:
    case.call_and_validate(base_url=served.base, headers=_headers(served, who, case.path),
                           checks=[*CHECKS, negative_data_rejection], timeout=30)  # fmt: skip


@every_sale
@settings(SETTINGS, max_examples=50)
def test_sales_and_their_receipts_match_the_schemas(case: Any, served: Served) -> None:
    for seller in ("SHOP1/TILL-1", "SHOP2/POS-1", BOSS):  # R 1 000 of float, R 100, R 1 000
        headers = _headers(served, seller, case.path)
        case.call_and_validate(base_url=served.base, headers=headers, checks=CHECKS, timeout=30)


def test_a_wrong_method_is_405_with_the_methods_allowed(served: Served) -> None:
    """RFC 9110: a 405 names the methods the resource has, in ``Allow``."""
    wrong = served.call("DELETE", "/v1/purchases")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "input")
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.headers.get("allow") == "POST"
    assert served.call("PUT", "/v1/health", terminal=None).headers.get("allow") == "GET, HEAD"
