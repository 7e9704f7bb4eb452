"""Files and lines: configuration, key files, keypad script and serial lines, profiles and
state files."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stsvend.errors import StsError
from tests.fuzz.common import NASTY_JSON, mutate_text, mutate_toml, strict_json

# -- files ---------------------------------------------------------------------------------------

_CONFIG_SAMPLE = """\
terminal = "T9"
timezone = "Africa/Johannesburg"
currency = "ZAR"
log_seal_seconds = 60
key_warning_days = 90
min_vend = "1.00"
max_vend = "5000.00"
daily_limit = "9000.00"
utility_name = "City Power"
"""


def config_inputs(rng: random.Random) -> Iterator[bytes]:
    while True:
        yield mutate_toml(rng, _CONFIG_SAMPLE)


def make_config_oracle(folder: Path) -> Callable[[bytes], str | None]:
    from stsvend.config import ConfigError, load_config
    from stsvend.vending.money import currency_digits

    def oracle(body: bytes) -> str | None:
        path = folder / "config.toml"
        path.write_bytes(body)
        try:
            cfg = load_config({"STSVEND_DATA_DIR": str(folder), "STSVEND_CONFIG": str(path)})
        except ConfigError:
            return None
        digits = currency_digits(cfg.currency)
        for name in ("min_vend", "max_vend", "daily_limit"):
            if not re.fullmatch(rf"[0-9]+(\.[0-9]{{1,{digits}}})?", getattr(cfg, name)):
                return f"accepted {name}={getattr(cfg, name)!r}"
        if type(cfg.log_seal_seconds) is not int or not 0 <= cfg.log_seal_seconds <= 86400:
            return f"accepted log_seal_seconds={cfg.log_seal_seconds!r}"
        if type(cfg.key_warning_days) is not int or not 0 <= cfg.key_warning_days <= 3650:
            return f"accepted key_warning_days={cfg.key_warning_days!r}"
        import tomllib

        for name, value in tomllib.loads(body.decode()).items():
            if name in ("log_seal_seconds", "key_warning_days") and type(value) is not int:
                return f"accepted {name}={value!r}"  # only a TOML integer is a whole number
        return None

    return oracle


def key_file_inputs(rng: random.Random) -> Iterator[bytes]:
    from stsvend.keystore.demo import DEMO_KEY_FILE_TEXT

    while True:
        yield mutate_toml(rng, DEMO_KEY_FILE_TEXT)


def make_key_file_oracle(folder: Path) -> Callable[[bytes], str | None]:
    import tomllib

    from stsvend.keystore import load_key_file

    def oracle(body: bytes) -> str | None:
        path = folder / "keys.toml"
        path.write_bytes(body)
        try:
            load_key_file(path)
        except StsError:
            return None
        # The text as the loader read it (read_text turns a lone CR into a newline).
        for entry in tomllib.loads(path.read_text(encoding="utf-8"))["keys"]:
            for name in ("krn", "ken", "base_date"):
                value = entry.get(name)
                if value is not None and not (type(value) is int or (
                        isinstance(value, str) and re.fullmatch(r"[0-9]+", value))):  # fmt: skip
                    return f"accepted {name}={value!r}"
            sgc = entry["sgc"]
            if not (type(sgc) is int or re.fullmatch(r"[0-9]{1,6}", str(sgc))):
                return f"accepted sgc={sgc!r}"
        return None

    return oracle


# -- the keypad simulator ---------------------------------------------------------------------

_KEYPAD_LINES = ["PING", "READ", "STATUS", "ADVANCE 90", "ADVANCE 15m", "WAIT 2h", "ADVANCE 1d",
                 "LOAD 1500", "LOAD 0", "EMERGENCY", "TAMPER", "HELP", "1234 5678 9012 3456 7890",
                 "0000-0000-0000-0000-0000", "# comment", "", "ADVANCE 3650d"]  # fmt: skip


def keypad_line_inputs(rng: random.Random) -> Iterator[str]:
    while True:
        line = rng.choice(_KEYPAD_LINES)
        yield line if rng.random() < 0.3 else mutate_text(rng, line)


def make_keypad_line_oracle(folder: Path) -> Callable[[str], str | None]:
    from stsvend_keypad.profiles import SAMPLE_PROFILE
    from stsvend_keypad.session import Session

    profile = folder / "meter.toml"
    profile.write_text(SAMPLE_PROFILE, encoding="utf-8")
    session = Session.open(profile, reset=True)

    def oracle(line: str) -> str | None:
        answer = session.execute(line)
        if answer is None:
            return None
        try:
            strict_json(json.dumps(answer, allow_nan=False))
        except ValueError as exc:
            return f"answer is not JSON: {exc}"
        strict = {"advance": r"(?i)\s*(advance|wait)\s+[0-9]+[smhd]?\s*",
                  "load": r"(?i)\s*load\s+[0-9]+\s*"}.get(answer["command"])  # fmt: skip
        if answer.get("ok") and strict is not None and not re.fullmatch(strict, line):
            return f"accepted {line!r}"
        return None

    return oracle


class _FakePort:
    def __init__(self, data: bytes) -> None:
        self._chunks = [data[i : i + 64] for i in range(0, len(data), 64)]
        self.written = b""

    def read(self, size: int = 1) -> bytes:
        if not self._chunks:
            import serial

            raise serial.SerialException("closed")
        return self._chunks.pop(0)

    def write(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


def serial_inputs(rng: random.Random) -> Iterator[bytes]:
    while True:
        lines = [mutate_text(rng, rng.choice(_KEYPAD_LINES)) for _ in range(rng.randint(1, 3))]
        raw = "\r\n".join(lines).encode("utf-8", errors="surrogatepass") + b"\n"
        if rng.random() < 0.2:
            raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))) + b"\n"
        if rng.random() < 0.05:
            raw = b"A" * 5000 + b"\nPING\n"
        yield raw


def make_serial_oracle(folder: Path) -> Callable[[bytes], str | None]:
    from stsvend_keypad.profiles import SAMPLE_PROFILE
    from stsvend_keypad.serial_link import serve
    from stsvend_keypad.session import Session

    profile = folder / "serial.toml"
    profile.write_text(SAMPLE_PROFILE, encoding="utf-8")
    session = Session.open(profile, reset=True)

    def oracle(data: bytes) -> str | None:
        port = _FakePort(data)
        serve(session, port)
        for line in port.written.decode("ascii").splitlines():
            try:
                strict_json(line)
            except ValueError as exc:
                return f"sent a line that is not JSON ({exc}): {line[:80]}"
        return None

    return oracle


def profile_inputs(rng: random.Random) -> Iterator[bytes]:
    from stsvend_keypad.profiles import SAMPLE_PROFILE

    while True:
        yield mutate_toml(rng, SAMPLE_PROFILE)


_BUILT = datetime(2026, 1, 1, tzinfo=UTC)


def make_profile_oracle(folder: Path) -> Callable[[bytes], str | None]:
    from stsvend.meter import Meter
    from stsvend_keypad.profiles import load_profile

    def oracle(body: bytes) -> str | None:
        path = folder / "p.toml"
        path.write_bytes(body)
        try:
            loaded = load_profile(path)
            meter = Meter.manufacture(loaded.profile, loaded.manufactured or _BUILT,
                                      loaded.start_credit)  # fmt: skip
        except StsError:
            return None
        json.dumps(meter.status(meter.state.clock), allow_nan=False)
        return None

    return oracle


def _walk(node: Any, leaves: list[tuple[Any, Any]]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, dict | list) and value:
            _walk(value, leaves)
        else:
            leaves.append((node, key))


def make_state_inputs(folder: Path) -> Callable[[random.Random], Iterator[bytes]]:
    def gen(rng: random.Random) -> Iterator[bytes]:
        from stsvend_keypad.profiles import SAMPLE_PROFILE
        from stsvend_keypad.session import Session

        profile = folder / "state-base.toml"
        profile.write_text(SAMPLE_PROFILE, encoding="utf-8")
        session = Session.open(profile, reset=True)
        session.execute("ADVANCE 1h")
        session.execute("LOAD 900")
        from stsvend_keypad.profiles import state_path_for

        base = state_path_for(profile).read_text(encoding="utf-8")
        while True:
            doc = json.loads(base)
            if rng.random() < 0.75:
                # Replace one leaf of the meter snapshot by a nasty JSON value.
                leaves: list[tuple[Any, Any]] = []
                _walk(doc, leaves)
                node, key = rng.choice(leaves)
                marker = "\u0000MARK\u0000"
                node[key] = marker
                text = json.dumps(doc).replace(json.dumps(marker), rng.choice(NASTY_JSON))
            else:
                text = mutate_text(rng, json.dumps(doc), edits=5)
            yield text.encode("utf-8", errors="surrogatepass")

    return gen


def make_state_oracle(folder: Path) -> Callable[[bytes], str | None]:
    from stsvend_keypad.profiles import SAMPLE_PROFILE
    from stsvend_keypad.session import Session

    profile = folder / "state.toml"
    profile.write_text(SAMPLE_PROFILE, encoding="utf-8")

    def oracle(body: bytes) -> str | None:
        state = folder / "state.json"
        state.write_bytes(body)
        try:
            session = Session.open(profile, state_path=state)
        except StsError:
            return None
        for line in ("READ", "ADVANCE 1h"):
            answer = session.execute(line)
            json.dumps(answer, allow_nan=False)
        return None

    return oracle
