"""Request digests and the replay rule (pure): known answers, properties, every refusal."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.errors import IdempotencyMismatch, InputError, StsError
from stsvend.vending.requests import (
    RequestKey,
    Stored,
    check_replay,
    parse_request_id,
    request_digest,
)

names = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=8)
values = st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.text(max_size=20)
contents = st.dictionaries(names, values, max_size=6)


def test_the_digest_is_sha256_of_the_canonical_form() -> None:
    canonical = '{"content":{"amount":5000,"meter":"01000000017"},"kind":"credit","v":1}'
    assert request_digest("credit", {"meter": "01000000017", "amount": 5000}) == (
        hashlib.sha256(canonical.encode()).hexdigest()
    )


@given(contents)
def test_the_order_of_the_fields_does_not_matter(content: dict[str, object]) -> None:
    reordered = dict(reversed(list(content.items())))
    assert request_digest("credit", content) == request_digest("credit", reordered)  # type: ignore[arg-type]


@given(contents, names, values, values)
def test_any_change_of_a_field_changes_the_digest(
    content: dict[str, object], name: str, old: object, new: object
) -> None:
    if old == new and type(old) is type(new):
        return
    a = request_digest("credit", {**content, name: old})  # type: ignore[dict-item]
    b = request_digest("credit", {**content, name: new})  # type: ignore[dict-item]
    assert a != b


@given(contents)
def test_the_kind_is_part_of_the_digest(content: dict[str, object]) -> None:
    assert request_digest("credit", content) != request_digest("emergency", content)  # type: ignore[arg-type]


def test_a_missing_field_differs_from_a_none_field() -> None:
    assert request_digest("test", {}) != request_digest("test", {"meter": None})


def test_true_and_one_differ() -> None:
    assert request_digest("test", {"x": True}) != request_digest("test", {"x": 1})


def test_a_field_of_another_type_is_a_bug_not_a_digest() -> None:
    with pytest.raises(TypeError, match="float"):
        request_digest("credit", {"amount": 50.0})  # type: ignore[dict-item]


DIGEST = request_digest("credit", {"meter": "01000000017", "amount": 5000})
OTHER = request_digest("credit", {"meter": "01000000017", "amount": 6000})


def test_the_same_digest_replays() -> None:
    check_replay(Stored("credit", 1, DIGEST), "r", kind="credit", meter_id=1, digest=DIGEST)


@pytest.mark.parametrize(
    ("stored", "kind", "meter_id"),
    [(Stored("credit", 1, DIGEST), "credit", 1),
     (Stored("credit", 1, DIGEST), "emergency", 1),
     (Stored("credit", 1, DIGEST), "credit", 2),
     (Stored("credit", 1, None), "emergency", 1),
     (Stored("credit", 1, None), "credit", 2)],
)  # fmt: skip
def test_every_mismatch_is_refused(stored: Stored, kind: str, meter_id: int) -> None:
    with pytest.raises(IdempotencyMismatch, match="'r' was already used for a different"):
        check_replay(stored, "r", kind=kind, meter_id=meter_id, digest=OTHER)


def test_an_answer_without_a_digest_replays_on_kind_and_meter() -> None:
    old = Stored("credit", 1, None, receipt=9)
    check_replay(old, "r", kind="credit", meter_id=1, digest=OTHER)
    check_replay(old, "r", kind="credit", meter_id=None, digest=OTHER, any_meter=True)


def test_the_error_is_one_class_of_the_tree() -> None:
    assert issubclass(IdempotencyMismatch, StsError)
    assert not issubclass(IdempotencyMismatch, InputError)
    assert IdempotencyMismatch().code == "idempotency_mismatch"
    error = IdempotencyMismatch("x")
    assert type(error.__reduce__()[0]("x")) is IdempotencyMismatch


@pytest.mark.parametrize("good", ["a", "X", "0" * 64, "till-3/2026-05-01/0042", "!~"])
def test_request_ids(good: str) -> None:
    assert parse_request_id(good) == good == RequestKey.parse(good).request_id


@pytest.mark.parametrize("bad", ["", " a", "a b", "x" * 65, "ü", "\x00", None, 5, b"ab"])
def test_bad_request_ids(bad: object) -> None:
    with pytest.raises(InputError, match="1-64 printable ASCII"):
        parse_request_id(bad)
