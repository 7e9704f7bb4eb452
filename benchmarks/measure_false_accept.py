"""Measure how often a wrong token passes a meter's checks (the CRC's 2**-16 false accept).

Run: ``python benchmarks/measure_false_accept.py [trials]`` (default one million).  Three kinds
of wrong entry, each ``trials`` times, against EA07 and EA11 decoder keys:

* wrong key: a token made for another meter's key;
* mistyped digit: one digit of a good token changed;
* random: any 20-digit number below 2**66.

A trial "falsely accepts" when decoding raises no error; the expected rate is about
1 / 65,536 = 1.53e-5 (for a wrong key every 64-bit block is equally likely after decryption).
"""

from __future__ import annotations

import random
import sys
import time

from stsvend import sts
from stsvend.errors import StsError


def measure(trials: int, ea: str, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    size = 8 if ea == "07" else 16
    key = sts.DecoderKey(rng.randbytes(size), ea)
    rates: dict[str, float] = {}
    for kind in ("wrong key", "mistyped digit", "random"):
        accepted = 0
        for i in range(trials):
            if kind == "random":
                token = f"{rng.getrandbits(66):020d}"
            else:
                maker = sts.DecoderKey(rng.randbytes(size), ea) if kind == "wrong key" else key
                token = sts.credit_token(maker, sts.Resource.ELECTRICITY, 100 + (i & 1023),
                                         tid=rng.getrandbits(24), rnd=i & 15)  # fmt: skip
                if kind == "mistyped digit":
                    pos = rng.randrange(20)
                    digit = (int(token[pos]) + rng.randrange(1, 10)) % 10
                    token = token[:pos] + str(digit) + token[pos + 1 :]
            try:
                sts.decode_token(token, key)
            except StsError:
                continue
            accepted += 1
        rates[kind] = accepted / trials
    return rates


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"trials per kind: {trials:,}; expected rate 2**-16 = {2**-16:.3e}")
    for ea in ("07", "11"):
        start = time.perf_counter()
        rates = measure(trials, ea)
        took = time.perf_counter() - start
        for kind, rate in rates.items():
            print(f"EA{ea} {kind:15s} false accepts {rate * trials:6.0f}  rate {rate:.3e}"
                  f"  ({rate * 65536:.2f} x 2**-16)")  # fmt: skip
        print(f"EA{ea}: {took:.1f} s")


if __name__ == "__main__":
    main()
