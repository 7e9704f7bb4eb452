"""The known answers (``tests/kat/answers/*.json``) and the meter that checks their tokens.

An answer file is the session of one test: each command with the role that ran it, its
``--json`` document and, for a document with tokens, the receipt as printed
(:func:`stsvend_cli.receipt.receipt_lines`).  The tests replay the commands and compare every
output whole.  The tokens are then checked apart from the vending code that made them: a
meter model (:mod:`stsvend.meter`) built from the published STS test vending keys
(``docs/sts.md`` §11) and the meter's own key data decrypts each one and must report the
class, subclass, TID and amount the receipt states.
"""

from __future__ import annotations

import copy
import json
import os
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from stsvend import sts
from stsvend.meter import Meter, MeterProfile
from stsvend.services.receipt_codec import decode
from stsvend_cli.receipt import receipt_lines
from tests.kat.conftest import BUILT_AT, Kat

ANSWERS = Path(__file__).resolve().parent / "answers"
#: STSVEND_KAT_RECORD=1 writes the outputs as the new answers instead of comparing them.
RECORD = os.environ.get("STSVEND_KAT_RECORD") == "1"
#: The published DKGA02 test vending keys of supply group 123456, by KRN (docs/sts.md §11).
VENDING_KEYS = {1: bytes.fromhex("abababababababab"), 2: bytes.fromhex("9494949494949494")}
#: The base's supply group and meters: IIN 600727, SGC 123456, KRN 1, TI 01, KT 2, base date 2014.
IIN = "600727"
KEY_DATA = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=sts.BaseDate.Y2014)


@cache
def _load(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((ANSWERS / f"{name}.json").read_text(encoding="utf-8")))


def answers(name: str) -> list[dict[str, Any]]:
    """The recorded session ``name``: [{"role", "command", "json", "receipt"?}, …]."""
    return copy.deepcopy(list(_load(name)))  # tests may edit what they get


def replay(kat: Kat, name: str) -> list[dict[str, Any]]:
    """Run the commands of session ``name`` one minute apart; each output must be the answer."""
    outputs = []
    recorded: list[dict[str, Any]] = []
    for step in answers(name):
        doc = kat.json(*step["command"], role=step["role"])
        if "anchor" in doc:
            # The seal's MAC is keyed by the log key, which the keystore draws at random; the
            # tests check it by verifying the log against it.
            outputs.append(dict(doc))
            doc["anchor"] = {**doc["anchor"], "mac": step["json"]["anchor"]["mac"]}
        else:
            outputs.append(doc)
        if RECORD:
            step["json"] = outputs[-1]
            if "receipt" in step:
                step["receipt"] = receipt_lines(decode(doc))
            recorded.append(step)
        else:
            assert doc == step["json"], (name, step["command"])
            if "receipt" in step:
                # The CLI's document reads as a stored answer without a version (version 1).
                assert receipt_lines(decode(doc)) == step["receipt"], (name, step["command"])
        kat.advance(minutes=1)
    if RECORD:
        # Re-recording is for a deliberate change of output: review the diff of answers/.
        text = json.dumps(recorded, indent=2, ensure_ascii=False) + "\n"
        (ANSWERS / f"{name}.json").write_text(text, encoding="utf-8")
    return outputs


def meter(drn: str) -> Meter:
    """The base's meter ``drn`` as its factory made it, a day before the base was built."""
    identity = sts.MeterIdentity.parse(IIN, drn)
    profile = MeterProfile.derive(identity, KEY_DATA, VENDING_KEYS[KEY_DATA.krn])
    return Meter.manufacture(profile, BUILT_AT - timedelta(days=1))


def tid(at: datetime) -> int:
    """The TID of a token issued at ``at`` (base date 2014, UTC minutes)."""
    return sts.tid_at(at, sts.BaseDate.Y2014)


def framed(text: str) -> list[str]:
    """The lines inside a printed receipt's frame (rich's panel), without the frame."""
    lines = text.splitlines()
    assert lines[0].startswith("╭") and lines[-1].startswith("╰"), text
    inner = []
    for line in lines[1:-1]:
        assert line.startswith("│ ") and line.endswith(" │"), line
        inner.append(line[2:-2].rstrip())
    return inner
