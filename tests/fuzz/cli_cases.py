"""The option values of every store command, run through ``stsvend`` in process."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tests.fuzz.common import mutate_text, number_text

__all__ = ["CliCase", "cli_inputs", "make_cli_oracle"]

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
    "receipt": r"#?[0-9]+", "sgc": r"[0-9]{1,6}",
    "drn": r"[ -]*(?:[0-9][ -]*){11}|[ -]*(?:[0-9][ -]*){13}",
    "key": r"[0-9]{1,6}(/[0-9])?|[0-9A-Fa-f]{6}", "time": r"[ -~]+",
}  # fmt: skip


def _slot(rng: random.Random, slot: str) -> str:
    from tests.fuzz.support import M

    makers: dict[str, Callable[[], str]] = {
        "money": lambda: number_text(rng, 2),
        "units": lambda: number_text(rng, 1),
        "int": lambda: number_text(rng, 0),
        "day": lambda: mutate_text(rng, rng.choice(["2026-12-03", "9999-12-31", "0001-01-01"])),
        "month": lambda: mutate_text(rng, rng.choice(["2026-12", "9999-12", "0001-01"])),
        "receipt": lambda: number_text(rng, 0),
        "sgc": lambda: mutate_text(rng, "123456"),
        "drn": lambda: (
            rng.choice(list(M.values()))
            if rng.random() < 0.6
            else mutate_text(rng, rng.choice(list(M.values())))
        ),
        "key": lambda: mutate_text(rng, rng.choice(["123456/1", "123456", "C33F45"])),
        "time": lambda: mutate_text(rng, "2026-01-31T08:00Z"),
    }
    good = makers[slot]
    value = good() if rng.random() < 0.85 else mutate_text(rng, good())
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
