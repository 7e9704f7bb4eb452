"""Throughput of the STS core and of the CLI batch contract.

Run: ``pytest benchmarks/bench_sts.py --benchmark-only -p no:cacheprovider``.

Each token benchmark encodes or decodes BATCH tokens per round, every one under a different
decoder key (keys are built beforehand: derivation is measured on its own), so tokens per
second = BATCH / the round's time.  The CLI benchmarks time the whole process, start-up
included, over 100,000 cases.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture
from tests.vectors import token_cases

from stsvend import sts

BATCH = 10_000
rng = random.Random(66)


def _keys(ea: str) -> list[sts.DecoderKey]:
    size = 8 if ea == "07" else 16
    return [sts.DecoderKey(rng.randbytes(size), ea) for _ in range(BATCH)]


def _report(benchmark: BenchmarkFixture, per_round: int) -> None:
    assert benchmark.stats is not None, "report after the rounds"
    benchmark.extra_info["items_per_round"] = per_round
    benchmark.extra_info["items_per_second_median"] = round(per_round / benchmark.stats["median"])


@pytest.mark.parametrize("ea", ["07", "11"])
def test_encode_credit_tokens_public_api(benchmark: BenchmarkFixture, ea: str) -> None:
    keys = _keys(ea)

    def run() -> None:
        credit = sts.credit_token
        electricity = sts.Resource.ELECTRICITY
        for i, key in enumerate(keys):
            credit(key, electricity, 1000 + i, tid=5_000_000 + i, rnd=i & 15)

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    _report(benchmark, BATCH)


@pytest.mark.parametrize("ea", ["07", "11"])
def test_decode_tokens_public_api(benchmark: BenchmarkFixture, ea: str) -> None:
    keys = _keys(ea)
    tokens = [sts.credit_token(k, sts.Resource.ELECTRICITY, 1000, tid=1, rnd=5) for k in keys]

    def run() -> None:
        decode = sts.decode_token
        for key, token in zip(keys, tokens, strict=True):
            decode(token, key)

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    _report(benchmark, BATCH)


@pytest.mark.parametrize(("dkga", "ea"), [("02", "07"), ("04", "07"), ("04", "11")])
def test_derive_decoder_keys(benchmark: BenchmarkFixture, dkga: str, ea: str) -> None:
    vk = bytes.fromhex("abababababababab" if dkga == "02" else
                       "abababababababab949494949494949401234567")  # fmt: skip
    meters = []
    for serial in range(BATCH):
        body = f"01{serial:08d}"
        meters.append(sts.MeterIdentity.parse("600727", body + str(sts.luhn_check_digit(body))))
    data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, ea=ea, base_date=2014)

    def run() -> None:
        for meter in meters:
            sts.derive_decoder_key(vk, meter, data, dkga)

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    _report(benchmark, BATCH)


def _batch_file(tmp_path: Path, name: str, pick: Callable[[int], dict[str, Any]]) -> Path:
    path = tmp_path / name
    with path.open("w") as fh:
        for i in range(100_000):
            case = pick(i)
            fh.write(json.dumps(case) + "\n")
    return path


def _strip(case: dict[str, Any], i: int) -> dict[str, Any]:
    out = {k: v for k, v in case.items() if k not in ("token", "source", "error")}
    out["id"] = f"{case['id']}#{i}"
    return out


@pytest.fixture(scope="module")
def batch_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("batch")
    valid = token_cases(refusals=False)
    ea07 = [c for c in valid if c["ea"] == "07"]

    def unique_meter(i: int) -> dict[str, Any]:
        # The same EA07 credit case, each line for a different meter (no key cache hits).
        base = next(c for c in ea07 if c["key"].get("dkga") == "02" and c["token_class"] == 0)
        body = f"{i % 100:02d}{i:08d}"
        key = {**base["key"], "iin": "600727", "drn": body + str(sts.luhn_check_digit(body))}
        return _strip({**base, "key": key}, i)

    return {
        "mixed": _batch_file(tmp, "mixed.jsonl", lambda i: _strip(rng.choice(token_cases()), i)),
        "ea07": _batch_file(tmp, "ea07.jsonl", lambda i: _strip(rng.choice(ea07), i)),
        "ea07-unique-meters": _batch_file(tmp, "unique.jsonl", unique_meter),
    }


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("mix", ["ea07", "mixed", "ea07-unique-meters"])
def test_cli_encode_jsonl_100k(benchmark: BenchmarkFixture, batch_files: dict[str, Path], mix: str,
                               workers: int) -> None:  # fmt: skip
    path = batch_files[mix]
    command = [sys.executable, "-m", "stsvend_cli", "token", "encode", "--jsonl",
               "--workers", str(workers)]  # fmt: skip

    def run() -> None:
        with path.open("rb") as stdin:
            proc = subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL,
                                  env={**os.environ}, check=False)  # fmt: skip
        assert proc.returncode in (0, 1)  # 1: the mixed set holds the refusal cases

    benchmark.pedantic(run, rounds=3, iterations=1)
    _report(benchmark, 100_000)
