"""The parsers fuzzed directly: money and the ``--jsonl`` batch lines."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from stsvend.errors import StsError
from tests.fuzz.common import NASTY_JSON, mutate_text, number_text, strict_json

__all__ = ["batch_inputs", "batch_oracle", "money_inputs", "money_oracle"]

# -- money -----------------------------------------------------------------------------------

_CURRENCIES = ["ZAR", "UGX", "KWD", "KES"]


def money_inputs(rng: random.Random) -> Iterator[tuple[str, str]]:
    while True:
        currency = rng.choice(_CURRENCIES)
        from stsvend.vending.money import currency_digits

        yield number_text(rng, currency_digits(currency)), currency


def money_oracle(case: tuple[str, str]) -> str | None:
    from stsvend.vending.money import Money, currency_digits

    text, currency = case
    digits = currency_digits(currency)
    pattern = r"[0-9]+" if digits == 0 else rf"[0-9]+(\.[0-9]{{1,{digits}}})?"
    strict = re.fullmatch(pattern, text) is not None
    try:
        money = Money.parse(text, currency)
    except StsError:
        if strict and len(text.split(".")[0].lstrip("0")) <= 12:
            return "a plain amount was refused"
        return None
    if not strict:
        return f"accepted {text!r} as {money}"
    if money.minor != int(Decimal(text).scaleb(digits)):
        return f"{text!r} read as {money.minor} minor units"
    return None


# -- the --jsonl batch -------------------------------------------------------------------------

_KEY_INTS = ("key_type", "ti", "krn", "base_date")
_KEY_DIGITS = ("sgc", "iin", "drn")


def _batch_cases() -> list[tuple[str, dict[str, Any]]]:
    from tests.vectors import token_cases

    out: list[tuple[str, dict[str, Any]]] = []
    for case in token_cases(refusals=False):
        bare = {k: v for k, v in case.items() if k not in ("token", "source")}
        out.append(("encode", bare))
        out.append(("decode", {"id": case["id"], "token": case["token"], "ea": case["ea"],
                               "key": case["key"]}))  # fmt: skip
        if case["key"] and "decoder_key" not in case["key"]:
            out.append(("derive", {"id": case["id"], "ea": case["ea"], "key": case["key"]}))
    return out


def batch_inputs(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    cases = _batch_cases()
    while True:
        kind, case = rng.choice(cases)
        doc = json.loads(json.dumps(case))
        roll = rng.random()
        if roll < 0.15:
            yield kind, json.dumps(doc).encode()
            continue
        # Replace one value (top level, in key, or in fields) by a nasty JSON text.
        places = [(doc, k) for k in doc]
        for sub in ("key", "fields"):
            if isinstance(doc.get(sub), dict):
                places += [(doc[sub], k) for k in doc[sub]]
        target, name = rng.choice(places)
        marker = "\u0000MARK\u0000"
        target[name] = marker
        text = json.dumps(doc).replace(json.dumps(marker), rng.choice(NASTY_JSON))
        if roll > 0.85:
            text = mutate_text(rng, text)
        yield kind, text.encode("utf-8", errors="surrogatepass")


def _strict_key_fields(case: Any) -> str | None:
    """What a strict reader refuses in a case's key, or None."""
    key = case.get("key") if isinstance(case, dict) else None
    if not isinstance(key, dict) or "decoder_key" in key:
        return None
    for name in _KEY_INTS + _KEY_DIGITS:
        value = key.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            return f"{name}={value!r}"
        if isinstance(value, str) and not re.fullmatch(r"[0-9]+", value):
            return f"{name}={value!r}"
    vk = key.get("vending_key")
    if not isinstance(vk, str) or not re.fullmatch(r"([0-9a-fA-F]{2})+", vk):
        return f"vending_key={vk!r}"
    return None


_FILLERS = [b'{"id": "f1", "ea": "07", "key": {"decoder_key": "0011223344556677"}, "token": '
            b'"00000000000000000000"}', b"not json", b'{"id": 1.0}']  # fmt: skip


def batch_oracle(case: tuple[str, bytes]) -> str | None:
    from stsvend_cli.tester import _batch_worker

    kind, line = case
    data, failed = _batch_worker(kind, [line])
    lines = data.decode().splitlines()
    if len(lines) != 1:
        return f"{len(lines)} output lines for one input line"
    try:
        out = strict_json(lines[0])
    except ValueError as exc:
        return f"output is not valid JSON ({exc}): {lines[0][:80]}"
    if not isinstance(out, dict) or (
        "id" in out
        and not (out["id"] is None or isinstance(out["id"], str) or type(out["id"]) is int)
    ):
        return f"odd output {lines[0][:80]}"
    if "error" in out:
        err = out["error"]
        if not (isinstance(err, dict) and isinstance(err.get("code"), str)
                and isinstance(err.get("message"), str)):  # fmt: skip
            return f"malformed error object {lines[0][:80]}"
        if failed != 1:
            return "an error line not counted as failed"
    else:
        try:
            parsed = json.loads(line)
        except (ValueError, RecursionError):
            return "an unreadable line was answered with a result"
        bad = _strict_key_fields(parsed)
        if bad is not None:
            return f"accepted a non-strict key field {bad}"
    # Judged alone: the same answer after another line (the one before it in the run, which
    # filled the caches, and a fixed filler).
    for filler in (_previous.get(kind, _FILLERS[0]), _FILLERS[len(line) % len(_FILLERS)]):
        data2, _ = _batch_worker(kind, [filler, line])
        if data2.decode().splitlines()[1] != lines[0]:
            return "the answer depends on an earlier line"
    _previous[kind] = line
    return None


_previous: dict[str, bytes] = {}
