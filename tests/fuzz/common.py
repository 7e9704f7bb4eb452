"""What every fuzzed interface shares: nasty characters and words, mutations, strict JSON."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NASTY_CHARS", "NASTY_JSON", "NASTY_TOML", "NASTY_WORDS", "Report", "mutate_text",
           "mutate_toml", "number_text", "strict_json"]  # fmt: skip


# Characters and words that lax readers take for numbers, or that break naive parsers.
NASTY_CHARS = [*"0123456789.eE_+-, \t\n\r#/:xX",
    "\uff10", "\uff11", "\uff19", "\u0660", "\u0661", "\u06f5", "\u0966", "\u00a0", "\u2212",
    "\u200b", "\x00", "\ufeff", "\ud800", "é", "½", "²", "\u2028",
]  # fmt: skip
NASTY_WORDS = ["inf", "Infinity", "-inf", "nan", "NaN", "1e3", "1E2", "1_000", "+1", " 1", "1 ",
               "0x10", "0b1", "0o7", "1.", ".5", "1,5", "１２", "١٢", "٣", "1" * 30, "9" * 400,
               "-0", "00", "", " ", "true", "null", "[]", "{}", "𝟙"]  # fmt: skip


@dataclass
class Report:
    interface: str
    inputs: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def mutate_text(rng: random.Random, text: str, edits: int = 3) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, edits)):
        op = rng.random()
        pos = rng.randint(0, len(chars))
        if op < 0.4:
            chars.insert(pos, rng.choice(NASTY_CHARS))
        elif op < 0.6 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.8 and chars:
            chars[min(pos, len(chars) - 1)] = rng.choice(NASTY_CHARS)
        else:
            chars[pos:pos] = list(rng.choice(NASTY_WORDS))
    return "".join(chars)


def number_text(rng: random.Random, places: int) -> str:
    """A plausible amount, often mutated into a slip."""
    whole = str(rng.choice([0, 1, 5, 10, 20, 50, 99, 100, 1000, rng.randint(0, 10**14)]))
    text = (
        whole
        if places == 0 or rng.random() < 0.4
        else (f"{whole}.{rng.randint(0, 10 ** rng.randint(1, places + 1) - 1)}")
    )
    roll = rng.random()
    if roll < 0.35:
        return text
    if roll < 0.55:
        return rng.choice(NASTY_WORDS)
    return mutate_text(rng, text)


NASTY_JSON = ["1.0", "true", "false", "null", '"+1"', '" 1"', '"1 "', '"\\uff11"', '"\\u0661"',
               "NaN", "Infinity", "-Infinity", "1e400", "-1", "1e2", '"1e2"', "[]", "{}",
               "[" * 3000 + "]" * 3000, '"' + "ab" * 8 + '"', '"ab ab"', "9" * 5000, '"07 "',
               '"\\ud800"', "0.5", "12345678901234567890123"]  # fmt: skip


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


NASTY_TOML = ["0.9", "inf", "-inf", "nan", "-1", "1e3", '"+1"', '" 1"', '"\\uff11"', "true",
               "[1, 2]", "{ a = 1 }", "1979-05-27", "07:32:00", '"\\u0000"', "9" * 30,
               '"1e3"', '"inf"', '"٣"', "[" * 2000 + "]" * 2000, '""', '"   "', "0",
               "86401", "99999", '"ZZZ"', '"UTC"', '"Nowhere/City"', "1_000", "0x10"]  # fmt: skip


def mutate_toml(rng: random.Random, text: str) -> bytes:
    lines = text.splitlines()
    assigned = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
    roll = rng.random()
    if roll < 0.1:
        out = text
    elif roll < 0.7 and assigned:
        i = rng.choice(assigned)
        name = lines[i].split("=", 1)[0]
        lines[i] = f"{name}= {rng.choice(NASTY_TOML)}"
        out = "\n".join(lines) + "\n"
    else:
        out = mutate_text(rng, text, edits=4)
    raw = out.encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.1:
        pos = rng.randint(0, len(raw))
        raw = raw[:pos] + bytes([rng.choice([0xFF, 0xFE, 0xC0, 0x80, 0xE9])]) + raw[pos:]
    return raw
