"""The ``--jsonl`` batch judges each line alone and strictly, and always answers valid JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stsvend.sts import batch
from stsvend_cli.tester import _batch_worker
from tests.vectors import token_cases

STA_KEY = {"dkga": "02", "vending_key": "abababababababab", "iin": "600727",
           "drn": "01234567897", "key_type": 2, "sgc": "123456", "ti": 1, "krn": 1,
           "base_date": 1993}  # fmt: skip


def _derive(**changes: Any) -> dict[str, Any]:
    return batch.derive_case({"id": "x", "ea": "07", "key": {**STA_KEY, **changes}})


def _lines(kind: str, *raw: bytes) -> list[Any]:
    data, _failed = _batch_worker(kind, list(raw))
    # Every output line is RFC 8259 JSON: no NaN/Infinity (the strict parser refuses them).
    return [json.loads(line, parse_constant=_refuse) for line in data.decode().splitlines()]


def _refuse(name: str) -> Any:
    raise AssertionError(f"{name} in the output")


@pytest.mark.parametrize(
    ("name", "value"),
    [("krn", "+1"), ("krn", " 1"), ("krn", "1 "), ("krn", "\uff11"), ("krn", "\u0661"),
     ("ti", "+1"), ("ti", "01\n"), ("sgc", " 123456"), ("sgc", "+123456"),
     ("sgc", "\uff11\uff12\uff13\uff14\uff15\uff16"), ("key_type", "\uff12"),
     ("base_date", " 1993"), ("base_date", "\uff11\uff19\uff19\uff13"), ("drn", " 01234567897"),
     ("iin", " 600727"), ("dkga", " 02"), ("vending_key", "ab ab ab ab ab ab ab ab")],
)  # fmt: skip
def test_numeric_strings_are_plain_ascii_digits(name: str, value: str) -> None:
    assert "error" in _derive(**{name: value}), (name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("krn", 1.0), ("krn", True), ("ti", 1.0), ("ti", True), ("key_type", 2.0), ("sgc", 123456.0)],
)
def test_a_float_or_bool_is_refused_whatever_came_before(name: str, value: object) -> None:
    # The integer first (it fills the cache), then its float/bool twin: still refused.
    assert "decoder_key" in _derive(**{name: STA_KEY[name]})
    assert "error" in _derive(**{name: value})
    # And in the other order, a fresh line with the integer still derives.
    assert "decoder_key" in _derive(**{name: STA_KEY[name]})


def test_nan_and_infinity_are_refused_and_never_echoed() -> None:
    out = _lines("derive", b'{"id": NaN, "key": {}}', b'{"id": Infinity}', b'{"id": -Infinity}',
                 b'{"id": 1e400, "key": {}}')  # fmt: skip
    assert [o["id"] for o in out] == [None] * 4
    assert all(o["error"]["code"] == "input" for o in out)


def test_deep_nesting_fails_its_line_only() -> None:
    good = json.dumps({"id": "ok", "ea": "07", "key": STA_KEY}).encode()
    deep = b'{"id": "deep", "key": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    deep_obj = b'{"a":' * 5000 + b"1" + b"}" * 5000
    out = _lines("derive", good, deep, deep_obj, good)
    assert [o.get("id") for o in out] == ["ok", None, None, "ok"]
    assert "decoder_key" in out[0] and "decoder_key" in out[3]
    assert "error" in out[1] and "error" in out[2]


def test_repeated_names_and_odd_ids_are_refused() -> None:
    out = _lines("derive", b'{"id": "a", "id": "b", "key": {}}',
                 b'{"id": {"x": 1}, "key": {}}', b'{"id": [1], "key": {}}',
                 b'{"id": true, "key": {}}', b'{"id": 1.5, "key": {}}')  # fmt: skip
    assert all(o["id"] is None and o["error"]["code"] == "input" for o in out)


def test_bad_bytes_get_an_error_line_each() -> None:
    out = _lines("decode", b"\xff\xfe\x00", b"\xef\xbb\xbf{}", b"[]", b"null", b'"x"', b"{")
    assert len(out) == 6 and all("error" in o for o in out)


def test_the_published_vectors_still_pass_exactly() -> None:
    cases = token_cases(refusals=False)
    raw = [json.dumps({k: v for k, v in c.items() if k not in ("token", "source")}).encode()
           for c in cases]  # fmt: skip
    out = _lines("encode", *raw)
    assert [o.get("token") for o in out] == [c["token"] for c in cases]
