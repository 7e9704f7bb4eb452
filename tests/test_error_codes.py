"""The error table (src/stsvend/error_codes.py) names every code the code raises, and only
those; the CLI's exit codes and the architecture document follow it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import stsvend
import stsvend_cli
import stsvend_keypad
from stsvend.error_codes import CODES, Outcome, describe
from stsvend.errors import StsError
from stsvend_cli.exit_codes import exit_code_for

ROOT = Path(__file__).resolve().parent.parent


def _import_everything() -> None:
    for package in (stsvend, stsvend_cli, stsvend_keypad):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in info.name or info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


def _subclasses(cls: type[StsError]) -> set[type[StsError]]:
    found: set[type[StsError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _raised_codes() -> set[str]:
    _import_everything()
    return {StsError.code} | {cls.code for cls in _subclasses(StsError)}


def test_every_code_raised_is_in_the_table() -> None:
    missing = _raised_codes() - set(CODES)
    assert missing == set()


def test_every_row_of_the_table_is_a_code_that_is_raised() -> None:
    assert set(CODES) - _raised_codes() == set()


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_code_has_one_exit_code_and_a_status(code: str) -> None:
    row = CODES[code]
    assert exit_code_for(code) in (3, 4, 5, 6, 7, 8, 9, 10)
    assert 400 <= row.http_status < 600
    assert row.meaning and row.meaning == row.meaning.strip()


def test_outcomes_keep_their_published_exit_codes() -> None:
    expected = {
        Outcome.INPUT: 3, Outcome.KEY: 4, Outcome.NOT_FOUND: 5, Outcome.NOT_ALLOWED: 6,
        Outcome.REFUSED: 7, Outcome.STORAGE: 8, Outcome.IDEMPOTENCY: 9, Outcome.NOT_PRINTED: 10,
    }  # fmt: skip
    for code, row in CODES.items():
        assert exit_code_for(code) == expected[row.outcome], code


def test_an_unknown_code_is_bad_input_not_a_crash() -> None:
    assert describe("not-a-code").outcome is Outcome.INPUT
    assert exit_code_for("not-a-code") == 3


def test_the_architecture_document_lists_each_code_under_its_exit_code() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {
        int(m.group(1)): set(re.findall(r"`([a-z_]+)`", m.group(2)))
        for m in re.finditer(r"^\| (\d+) \([^)]*\) \| (.*) \|$", text, re.MULTILINE)
    }
    for code in CODES:
        assert code in rows[exit_code_for(code)], code
