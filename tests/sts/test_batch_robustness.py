"""No input, however malformed, makes the batch codec raise: it answers with an error object."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stsvend.sts import batch
from tests.vectors import token_cases

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)


def _check(out: dict[str, Any]) -> None:
    assert isinstance(out, dict)
    if "error" in out:
        assert set(out["error"]) == {"code", "message"}
        assert out["error"]["message"]


@given(json_values)
def test_any_json_value_gets_an_answer(value: Any) -> None:
    for fn in (batch.encode_case, batch.decode_case, batch.derive_case):
        _check(fn(value))


@given(st.sampled_from(token_cases()), st.data())
@settings(max_examples=400)
def test_a_vector_with_one_field_spoiled_gets_an_answer(case: dict[str, Any], data: Any) -> None:
    spoiled = {k: v for k, v in case.items() if k not in ("token", "error", "source")}
    where = data.draw(st.sampled_from(["top", "key", "fields"]))
    target = spoiled if where == "top" else dict(spoiled.get(where) or {})
    if target:
        name = data.draw(st.sampled_from(sorted(target)))
        target[name] = data.draw(json_values)
    if where != "top":
        spoiled[where] = target
    _check(batch.encode_case(spoiled))
    _check(batch.decode_case({"id": 1, "token": data.draw(json_values), "ea": case["ea"],
                              "key": spoiled.get("key")}))  # fmt: skip
    _check(batch.derive_case({"id": 1, "key": spoiled.get("key"), "ea": spoiled.get("ea")}))
