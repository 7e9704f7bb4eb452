"""Generated bad input for every interface that reads what a person or a file hands in, each
judged by an oracle: no exception but a stsvend error, no exit 70, no traceback, and nothing
accepted that a strict reader would refuse.

One seeded :class:`random.Random` drives every generator, so a run is repeatable from its seed.
The CI test runs a few hundred inputs per interface; ``benchmarks/fuzz_inputs.py`` runs the full
size and prints the figures.
"""

from __future__ import annotations

import functools
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from stsvend.errors import StsError

__all__ = ["INTERFACES", "Report", "run_interface"]

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


def _mutate_text(rng: random.Random, text: str, edits: int = 3) -> str:
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


def _number_text(rng: random.Random, places: int) -> str:
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
    return _mutate_text(rng, text)


# -- money -----------------------------------------------------------------------------------

_CURRENCIES = ["ZAR", "UGX", "KWD", "KES"]


def money_inputs(rng: random.Random) -> Iterator[tuple[str, str]]:
    while True:
        currency = rng.choice(_CURRENCIES)
        from stsvend.vending.money import currency_digits

        yield _number_text(rng, currency_digits(currency)), currency


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

_NASTY_JSON = ["1.0", "true", "false", "null", '"+1"', '" 1"', '"1 "', '"\\uff11"', '"\\u0661"',
               "NaN", "Infinity", "-Infinity", "1e400", "-1", "1e2", '"1e2"', "[]", "{}",
               "[" * 3000 + "]" * 3000, '"' + "ab" * 8 + '"', '"ab ab"', "9" * 5000, '"07 "',
               '"\\ud800"', "0.5", "12345678901234567890123"]  # fmt: skip
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
        text = json.dumps(doc).replace(json.dumps(marker), rng.choice(_NASTY_JSON))
        if roll > 0.85:
            text = _mutate_text(rng, text)
        yield kind, text.encode("utf-8", errors="surrogatepass")


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


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
        out = _strict_json(lines[0])
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


# -- the CLI's store commands -------------------------------------------------------------------

# (action, argv template) with slots: {money} {units} {int} {day} {month} {time} {key} {sgc}
# {receipt} {drn}
_COMMANDS: list[tuple[str, tuple[str, ...]]] = [
    ("vend", ("vend", "{drn}", "{money}")),
    ("trial", ("trial", "{drn}", "{money}")),
    ("trial", ("trial", "{drn}", "--units", "{units}")),
    ("free-issue", ("free-issue", "{drn}", "{units}", "--reason", "fuzz run")),
    ("reprint", ("reprint", "{receipt}")),
    ("reverse", ("reverse", "{receipt}", "--reason", "fuzz run")),
    ("emergency-credit", ("emergency", "{drn}")),
    ("engineering", ("engineering", "{drn}", "max-power-limit", "--work-order", "W1",
                     "--value", "{int}")),
    ("test-token", ("test-token", "{int}", "--manufacturer", "{int}")),
    ("reports", ("report", "daily", "{day}")),
    ("reports", ("report", "monthly", "{month}")),
    ("log.export", ("log", "export", "--key", "{key}", "--since", "{time}")),
    ("log.export", ("log", "export", "--until", "{time}", "--format", "jsonl")),
    ("meters.manage", ("meters", "limits", "{drn}", "--max", "{money}", "--min", "{money}")),
    ("meters.manage", ("meters", "add", "{drn}", "--sgc", "{sgc}", "--ti", "{int}")),
    ("meters.view", ("meters", "show", "{drn}")),
    ("meters.view", ("meters", "list", "--sgc", "{sgc}")),
    ("meters.block", ("meters", "block", "{drn}", "--reason", "fuzz run")),
    ("supply-groups.manage", ("supply-groups", "add", "{sgc}", "--krn", "{int}", "--ken",
                              "{int}", "--base-date", "{int}")),
    ("customers.manage", ("customers", "open-account", "--customer", "C-F", "--contract", "K-F",
                          "--meter", "{drn}", "--tariff", "FLAT", "--debt", "{money}",
                          "--recovery", "{money}")),
    ("tariffs.manage", ("tariffs", "add", "F1", "--name", "fuzz", "--price", "{money}", "--tax",
                        "{money}", "--free-units", "{units}", "--emergency-repay", "{money}")),
    ("tariffs.manage", ("tariffs", "add", "F2", "--name", "fuzz", "--block", "{units}:{money}",
                        "--block", ":{money}")),
    ("key-change", ("key-change", "meter", "{drn}", "--krn", "{int}", "--ti", "{int}",
                    "--ken", "{int}")),
    ("key-change.bulk", ("key-change", "resume", "{int}", "--batch-size", "{int}")),
    ("key-change.confirm", ("key-change", "cancel", "{drn}", "--reason", "fuzz run")),
    ("reports", ("key-change", "report", "--sgc", "{sgc}")),
]  # fmt: skip
_STRICT = {
    "money": r"[0-9]+(\.[0-9]{1,2})?", "units": r"[0-9]+(\.[0-9])?", "int": r"[0-9]+",
    "day": r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "month": r"[0-9]{4}-[0-9]{2}",
    "receipt": r"#?[0-9]+", "sgc": r"[0-9]{1,6}", "drn": r"[0-9]{11}|[0-9]{13}",
    "key": r"[0-9]{1,6}(/[0-9])?|[0-9A-Fa-f]{6}", "time": r"[ -~]+",
}  # fmt: skip


def _slot(rng: random.Random, slot: str) -> str:
    from tests.fuzz.support import M

    good = {
        "money": lambda: _number_text(rng, 2),
        "units": lambda: _number_text(rng, 1),
        "int": lambda: _number_text(rng, 0),
        "day": lambda: _mutate_text(rng, rng.choice(["2026-12-03", "9999-12-31", "0001-01-01"])),
        "month": lambda: _mutate_text(rng, rng.choice(["2026-12", "9999-12", "0001-01"])),
        "receipt": lambda: _number_text(rng, 0),
        "sgc": lambda: _mutate_text(rng, "123456"),
        "drn": lambda: (
            rng.choice(list(M.values()))
            if rng.random() < 0.6
            else _mutate_text(rng, rng.choice(list(M.values())))
        ),
        "key": lambda: _mutate_text(rng, rng.choice(["123456/1", "123456", "C33F45"])),
        "time": lambda: _mutate_text(rng, "2026-01-31T08:00Z"),
    }[slot]
    value = good() if rng.random() < 0.85 else _mutate_text(rng, good())
    value = value.replace("\x00", "").replace("\ud800", "")  # argv cannot carry these
    # A leading "-" makes click read an option (a usage error, exit 2): not a value.
    return value.lstrip("-") or "0"


@dataclass
class CliCase:
    role: str
    action: str
    argv: tuple[str, ...]
    values: dict[str, list[str]]


def _fill(rng: random.Random, values: dict[str, list[str]], m: re.Match[str]) -> str:
    value = _slot(rng, m[1])
    values.setdefault(m[1], []).append(value)
    return value


def cli_inputs(rng: random.Random) -> Iterator[CliCase]:
    from tests.fuzz.support import ROLES

    while True:
        action, template = rng.choice(_COMMANDS)
        values: dict[str, list[str]] = {}
        argv = []
        for part in template:
            argv.append(re.sub(r"\{(\w+)\}", functools.partial(_fill, rng, values), part))
        if template[0] != "log":
            argv.append("--json")  # every store command but log export has it (no rich tables)
        yield CliCase(rng.choice(ROLES), action, tuple(argv), values)


def make_cli_oracle(store: Any) -> Callable[[CliCase], str | None]:
    from stsvend.vending.roles import Action, Role, is_allowed

    def oracle(case: CliCase) -> str | None:
        out = store.run(*case.argv, role=case.role)
        text = out.stdout + out.stderr
        if out.code == 70 or "Traceback" in text or "internal error" in text:
            return f"exit {out.code}: {out.stderr.strip()[:160]}"
        if out.code not in (0, 3, 4, 5, 6, 7, 8):
            return f"undocumented exit {out.code}: {out.stderr.strip()[:160]}"
        if out.code != 0 and not out.stderr.startswith("error: "):
            return f"exit {out.code} without an error line: {out.stderr[:120]!r}"
        if not is_allowed(Role.parse(case.role), Action(case.action)):
            if out.code != 6:
                return f"a {case.role} got exit {out.code}, not the refusal: {out.stderr[:120]}"
            return None
        if out.code == 0:
            for slot, values in case.values.items():
                for value in values:
                    if not re.fullmatch(_STRICT[slot], value):
                        return f"accepted {slot} {value!r}"
        return None

    return oracle


# -- files ---------------------------------------------------------------------------------------

_NASTY_TOML = ["0.9", "inf", "-inf", "nan", "-1", "1e3", '"+1"', '" 1"', '"\\uff11"', "true",
               "[1, 2]", "{ a = 1 }", "1979-05-27", "07:32:00", '"\\u0000"', "9" * 30,
               '"1e3"', '"inf"', '"٣"', "[" * 2000 + "]" * 2000, '""', '"   "', "0",
               "86401", "99999", '"ZZZ"', '"UTC"', '"Nowhere/City"', "1_000", "0x10"]  # fmt: skip


def _mutate_toml(rng: random.Random, text: str) -> bytes:
    lines = text.splitlines()
    assigned = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
    roll = rng.random()
    if roll < 0.1:
        out = text
    elif roll < 0.7 and assigned:
        i = rng.choice(assigned)
        name = lines[i].split("=", 1)[0]
        lines[i] = f"{name}= {rng.choice(_NASTY_TOML)}"
        out = "\n".join(lines) + "\n"
    else:
        out = _mutate_text(rng, text, edits=4)
    raw = out.encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.1:
        pos = rng.randint(0, len(raw))
        raw = raw[:pos] + bytes([rng.choice([0xFF, 0xFE, 0xC0, 0x80, 0xE9])]) + raw[pos:]
    return raw


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
        yield _mutate_toml(rng, _CONFIG_SAMPLE)


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
        yield _mutate_toml(rng, DEMO_KEY_FILE_TEXT)


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
        yield line if rng.random() < 0.3 else _mutate_text(rng, line)


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
            _strict_json(json.dumps(answer, allow_nan=False))
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
        lines = [_mutate_text(rng, rng.choice(_KEYPAD_LINES)) for _ in range(rng.randint(1, 3))]
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
        serve(session, port)  # type: ignore[arg-type]
        for line in port.written.decode("ascii").splitlines():
            try:
                _strict_json(line)
            except ValueError as exc:
                return f"sent a line that is not JSON ({exc}): {line[:80]}"
        return None

    return oracle


def profile_inputs(rng: random.Random) -> Iterator[bytes]:
    from stsvend_keypad.profiles import SAMPLE_PROFILE

    while True:
        yield _mutate_toml(rng, SAMPLE_PROFILE)


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
                text = json.dumps(doc).replace(json.dumps(marker), rng.choice(_NASTY_JSON))
            else:
                text = _mutate_text(rng, json.dumps(doc), edits=5)
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


# -- running ---------------------------------------------------------------------------------------

Maker = Callable[[Path], tuple[Callable[[random.Random], Iterator[Any]], Callable[[Any], Any]]]
INTERFACES: dict[str, Maker] = {
    "money": lambda folder: (money_inputs, money_oracle),
    "batch": lambda folder: (batch_inputs, batch_oracle),
    "config": lambda folder: (config_inputs, make_config_oracle(folder)),
    "key_file": lambda folder: (key_file_inputs, make_key_file_oracle(folder)),
    "keypad_line": lambda folder: (keypad_line_inputs, make_keypad_line_oracle(folder)),
    "serial": lambda folder: (serial_inputs, make_serial_oracle(folder)),
    "profile": lambda folder: (profile_inputs, make_profile_oracle(folder)),
    "state_file": lambda folder: (make_state_inputs(folder), make_state_oracle(folder)),
}


def run_interface(
    name: str,
    count: int,
    seed: int,
    folder: Path,
    *,
    cli_store: Any = None,
) -> Report:
    """Generate ``count`` inputs for one interface and judge each; failures are described."""
    rng = random.Random(f"{seed}/{name}")
    if name == "cli":
        generate: Callable[[random.Random], Iterator[Any]] = cli_inputs
        oracle: Callable[[Any], Any] = make_cli_oracle(cli_store)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        generate, oracle = INTERFACES[name](folder)
    report = Report(name)
    start = time.perf_counter()
    for case, _ in zip(generate(rng), range(count), strict=False):
        report.inputs += 1
        try:
            problem = oracle(case)
        except Exception as exc:  # the finding itself: anything but a stsvend error escaped
            problem = f"{type(exc).__name__}: {str(exc)[:160]}"
        if problem is not None:
            report.failures.append(f"{problem} <- {str(case)[:160]!r}")
    report.seconds = time.perf_counter() - start
    return report
