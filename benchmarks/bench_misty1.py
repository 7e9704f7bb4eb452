"""pytest-benchmark timings for the EA11 (MISTY1) cipher.

Run: ``pytest benchmarks/bench_misty1.py --benchmark-only -p no:cacheprovider``.
Every token uses its own decoder key, so the key schedule counts as much as a block.
"""

from __future__ import annotations

from pytest_benchmark.fixture import BenchmarkFixture

from stsvend.sts.misty1 import Misty1

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")


def test_key_schedule(benchmark: BenchmarkFixture) -> None:
    cipher = benchmark(Misty1, KEY)
    assert cipher.encrypt_block(0x0123456789ABCDEF) == 0x8B1DA5F56AB3D07C


def test_encrypt_block(benchmark: BenchmarkFixture) -> None:
    cipher = Misty1(KEY)
    assert benchmark(cipher.encrypt_block, 0x0123456789ABCDEF) == 0x8B1DA5F56AB3D07C


def test_decrypt_block(benchmark: BenchmarkFixture) -> None:
    cipher = Misty1(KEY)
    assert benchmark(cipher.decrypt_block, 0x8B1DA5F56AB3D07C) == 0x0123456789ABCDEF
