"""The OpenAPI description is made from the endpoints' table and the answers' attrs classes:
the committed JSON files are exactly what it makes, and its schemas accept the documents that
``as_doc`` makes of real answers."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from jsonschema_rs import Draft202012Validator

from stsvend.server import api_spec
from stsvend.server.advice_routes import ADVICE_ROUTES
from stsvend.server.api_spec import Endpoint, Field, document, render
from stsvend.server.app import openapi_document
from stsvend.server.batch_routes import BATCH_ROUTES
from stsvend.server.json_schema import class_schema, field_comments, schema_of
from stsvend.server.sales_routes import SALE_ROUTES
from stsvend.server.session_routes import SESSION_ROUTES
from stsvend.server.workorder_routes import WORKORDER_ROUTES
from stsvend.services.context import Services
from stsvend.services.receipt_model import (
    Breakdown,
    BreakdownLine,
    LineKind,
    MeterDoc,
    SalePoint,
    SaleReceipt,
    TokenEntry,
)
from stsvend.services.results import as_doc, doc_key, doc_optional
from stsvend.vending.tokenspec import TokenPurpose

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_files_are_what_the_spec_module_makes() -> None:
    text = render(document())
    for path in (ROOT / "docs" / "openapi.json", ROOT / "src/stsvend/server/openapi.json"):
        assert path.read_text("utf-8") == text, (
            f"{path} is stale: run python -m stsvend.server.api_spec --write"
        )
    assert openapi_document() == json.loads(text)


def test_check_and_write_say_what_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    target = tmp_path / "openapi.json"
    monkeypatch.setattr(api_spec, "_targets", lambda: [target])
    assert api_spec.main(["--check"]) == 1
    assert api_spec.main(["--write"]) == 0
    assert target.read_text("utf-8") == render(document())
    assert api_spec.main(["--check"]) == 0
    assert "not current" in capsys.readouterr().out
    assert api_spec.main([]) == 0
    assert json.loads(capsys.readouterr().out)["openapi"] == "3.1.0"


def _validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator of the component ``name``, its references resolved within ``doc``."""
    return Draft202012Validator({**doc, "$ref": f"#/components/schemas/{name}"})


def _receipt(**changes: Any) -> SaleReceipt:
    token = TokenEntry("Credit", "12345678901234567890", 0, 0, TokenPurpose.SALE, tid=1,
                       base_date=2014, amount=500, sgc=123456, krn=1, ti=1)  # fmt: skip
    money = Breakdown("ZAR", 1000, 0, (BreakdownLine(LineKind.ENERGY, 1000, 500, 1, "2.0"),),
                      130, 1500, 0)  # fmt: skip
    base = SaleReceipt("credit", "p-1", "2026-01-01T00:00:00Z", "2026-01-01T02:00:00",
                       "SHOP1/TILL-1", "SHOP1/TILL-1", True, "Utility", "4000",
                       MeterDoc("01000000017", "600727", "electricity", "123456", 1, 1, 2,
                                "07", 2014), (token,), money=money, units=500, receipt=7,
                       replayed=False,
                       sale_point=SalePoint("SHOP1", "cash", "ZAR", 25, 99_000))  # fmt: skip
    return attrs.evolve(base, **changes)


def test_the_receipt_schema_takes_as_doc_of_receipts_and_refuses_other_shapes() -> None:
    check = _validator(document(), "SaleReceipt")
    doc = as_doc(_receipt())
    assert check.is_valid(doc), list(check.iter_errors(doc))
    reversal = as_doc(_receipt(kind="reversal", tokens=(attrs.evolve(
        _receipt().tokens[0], digits=None),), reason="wrong meter", reverses=6))  # fmt: skip
    assert "digits" not in reversal["tokens"][0] and check.is_valid(reversal)
    engineering = as_doc(_receipt(engineering="clear_credit", work_order="WO-1"))
    assert engineering["value"] is None and check.is_valid(engineering)
    assert not check.is_valid({**doc, "extra": 1})  # closed
    assert not check.is_valid({**doc, "receipt": None})  # an optional key is never null
    assert not check.is_valid({key: value for key, value in doc.items() if key != "meter"})
    assert not check.is_valid({**doc, "tokens": [{**doc["tokens"][0], "purpose": "gift"}]})


def test_schemas_follow_doc_keys_optional_fields_and_comments() -> None:
    entry = class_schema(TokenEntry, {})
    assert "class" in entry["properties"] and "token_class" not in entry["properties"]
    assert "digits" not in entry["required"] and entry["additionalProperties"] is False
    assert entry["properties"]["tid"]["type"] == ["integer", "null"]
    receipt = class_schema(SaleReceipt, {})
    assert receipt["properties"]["value"]["type"] == ["integer", "null"]  # present_with
    assert "value" not in receipt["required"] and "meter" in receipt["required"]
    assert receipt["properties"]["meter"]["anyOf"][1] == {"type": "null"}
    assert field_comments(MeterDoc)["drn"] == "The meter number (DRN), digits only."


class Shade(Enum):
    DARK = 1
    LIGHT = 2


@attrs.frozen
class Node:
    """A node: ``kids`` are its own kind."""

    kids: tuple[Node, ...]
    shade: Shade
    name: str = attrs.field(metadata=doc_key("from"))
    note: str | None = attrs.field(default=None, metadata=doc_optional())


def test_recursive_classes_enums_and_odd_types() -> None:
    components: dict[str, Any] = {}
    assert schema_of(Node, components) == {"$ref": "#/components/schemas/Node"}
    node = components["Node"]
    assert node["description"] == "A node: `kids` are its own kind."
    assert node["properties"]["kids"]["items"] == {"$ref": "#/components/schemas/Node"}
    assert node["properties"]["shade"] == {"type": "integer", "enum": [1, 2]}
    assert node["required"] == ["kids", "shade", "from"]
    assert schema_of(Any, {}) == {} and schema_of(list[bool], {})["items"] == {"type": "boolean"}
    with pytest.raises(TypeError, match="no JSON schema"):
        schema_of(bytes, {})
    with pytest.raises(TypeError):
        schema_of(dict[int, str], {})


def test_two_classes_of_one_name_or_a_repeated_route_are_refused() -> None:
    other = attrs.frozen(type("MeterDoc", (), {"__annotations__": {"x": "int"}}))
    components: dict[str, Any] = {}
    schema_of(MeterDoc, components)
    assert schema_of(MeterDoc, components) == {"$ref": "#/components/schemas/MeterDoc"}
    with pytest.raises(ValueError, match="two schemas are named MeterDoc"):
        schema_of(other, components)
    end = Endpoint("GET", "/v1/x", "x", "x", {"type": "object"})
    with pytest.raises(ValueError, match="declared twice"):
        document((end, attrs.evolve(end, operation_id="y")))
    with pytest.raises(ValueError, match="operationId"):
        document((end, attrs.evolve(end, path="/v1/y")))


def test_an_endpoint_is_a_few_lines() -> None:
    end = Endpoint("POST", "/v1/purchases/{purchase_id}/confirm", "confirmPurchase",
                   "Confirm a purchase", SaleReceipt, problems=(404, 409), body=(),
                   query=(Field("since", "From this date.", required=False),))  # fmt: skip
    op = document((end,))["paths"]["/v1/purchases/{purchase_id}/confirm"]["post"]
    assert op["requestBody"]["required"] is False
    assert op["requestBody"]["content"]["application/json"]["schema"]["properties"] == {}
    assert [p.get("name", p.get("$ref")) for p in op["parameters"]] == [
        "#/components/parameters/RequestId", "#/components/parameters/Session", "purchase_id",
        "since"]  # fmt: skip
    assert sorted(op["responses"]) == ["200", "401", "403", "404", "409", "413", "422", "429",
                                       "500", "503"]  # fmt: skip
    assert "Retry-After" in op["responses"]["429"]["headers"]


def test_every_route_served_is_declared() -> None:
    nothing = cast(Services, None)  # the tables only close over the services
    served = {(method, path) for table in (SALE_ROUTES, BATCH_ROUTES, ADVICE_ROUTES,
                                           SESSION_ROUTES, WORKORDER_ROUTES)
              for path, (method, _) in table(nothing).items()}  # fmt: skip
    declared = {(end.method, end.path) for end in api_spec.ENDPOINTS}
    assert declared - served == {("GET", "/v1/health"), ("GET", "/v1/openapi.json"),
                                 ("GET", "/v1/vendor"), ("GET", "/metrics")}  # fmt: skip
    assert served <= declared
