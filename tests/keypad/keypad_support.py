"""Helpers for the keypad simulator tests: profile files, tokens for them, subprocess runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from stsvend import sts
from stsvend_keypad.profiles import SAMPLE_PROFILE

__all__ = [
    "MANUFACTURED",
    "SAMPLE_KEY",
    "app_env",
    "credit_token",
    "json_lines",
    "key_change_tokens",
    "run_app",
    "write_profile",
]

#: The sample profile's meter and key (published DKGA02 test key, base date 2014).
MANUFACTURED = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
_IDENTITY = sts.MeterIdentity.parse(None, "00000000000")
_DATA = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=2014)
SAMPLE_KEY = sts.derive_decoder_key(bytes.fromhex("abababababababab"), _IDENTITY, _DATA)


def write_profile(folder: Path, text: str = SAMPLE_PROFILE, name: str = "meter.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def credit_token(tenths: int, minutes_after_manufacture: int) -> str:
    """A credit token for the sample profile's meter, issued some minutes after it was built."""
    at = MANUFACTURED + timedelta(minutes=minutes_after_manufacture)
    tid = sts.vendable_tid(sts.tid_at(at, sts.BaseDate.Y2014))
    return sts.credit_token(SAMPLE_KEY, sts.Resource.ELECTRICITY, tenths, tid=tid, rnd=5)


def key_change_tokens() -> tuple[str, ...]:
    """A key change set moving the sample meter to KRN 2 (the second published test key)."""
    new = sts.KeyData(sgc=123456, ti=1, krn=2, key_type=2, base_date=2014)
    new_key = sts.derive_decoder_key(bytes.fromhex("9494949494949494"), _IDENTITY, new)
    return sts.key_change_tokens(SAMPLE_KEY, new_key, new)


def app_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


def run_app(*args: str, stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m stsvend_keypad ARGS`` as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "stsvend_keypad", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=app_env(),
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
