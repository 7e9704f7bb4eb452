"""A vend at the counter: one-shot ``stsvend vend`` processes against ``stsvend counter``.

Run: ``python benchmarks/bench_counter.py`` (about a minute).  ``COUNTER_VENDS`` (default 50)
sets the vends of each counter session, ``ONESHOT_VENDS`` (default 10) the one-shot runs.

What is measured, on an installation like the CLI tests' (SQLite in a temporary data directory,
TEST keys; the clerk's PIN re-set through the CLI, so hashed at the production cost):

* **one-shot** — ``stsvend vend DRN AMOUNT`` run as a process of its own, as a script or a
  clerk without the counter does: start Python, import, open the keystore (a raw KEK, then a
  passphrase KEK and its key derivation), check the PIN, vend, print the receipt, exit.  Timed
  from the start of the process to its end.
* **counter** — one ``stsvend counter`` session on a pseudo-terminal (:mod:`tests.cli.
  counter_pty`), logged in once, then ``COUNTER_VENDS`` sales: meter, amount, ``y``.  Timed
  from the Enter that confirms the sale to the end of the printed receipt (and, beside it, from
  the Enter after the meter number, which adds the meter look-up and the trial figures).  Run
  once with a raw KEK and once with a passphrase: the KEK's cost is paid at login only.

Printed: median and 95th percentile of each, the login time of each counter session, and
whether the counter meets its target (p95 under 0.5 s).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.cli.conftest import KEK, STSVEND, Cli, M, build
from tests.cli.counter_pty import CounterPty

COUNTER_VENDS = int(os.environ.get("COUNTER_VENDS", "50"))
ONESHOT_VENDS = int(os.environ.get("ONESHOT_VENDS", "10"))
TARGET = 0.5
PIN = "583920"
PASSPHRASE = "counter benchmark passphrase"
PROMPT = "(help)> "
WANTED = ("K-1", "K-2", "K-3")  # by contract number, one after the other


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def installation(root: Path) -> tuple[Cli, Cli]:
    """The base (raw KEK) and a copy whose keystore is sealed under a passphrase."""
    raw = build(Cli(root / "raw"))
    raw.ok("operators", "change-pin", role="clerk", STSVEND_NEW_PIN=PIN)
    shutil.copytree(raw.data_dir, root / "passphrase")
    phrase = Cli(root / "passphrase")
    phrase.ok("keys", "change-kek", STSVEND_NEW_KEK_PASSPHRASE=PASSPHRASE)
    phrase.env = {"STSVEND_KEK": "", "STSVEND_KEK_PASSPHRASE": PASSPHRASE}
    raw.env = {"STSVEND_KEK": KEK}
    return raw, phrase


def _env(cli: Cli) -> dict[str, str]:
    return {k: v for k, v in cli.base_env(None).items() if v}


def one_shot(cli: Cli, runs: int) -> list[float]:
    env = {**_env(cli), "STSVEND_OPERATOR": "clerk", "STSVEND_PIN": PIN}
    times = []
    for i in range(runs):
        began = time.perf_counter()
        proc = subprocess.run([*STSVEND, "vend", M[1 + i % 3], "5"], env=env,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        times.append(time.perf_counter() - began)
        assert proc.returncode == 0, proc.stderr
    return times


def counter(cli: Cli, vends: int) -> tuple[float, list[float], list[float]]:
    """(login seconds, confirm→receipt seconds, meter→receipt seconds) of one session."""
    pty = CounterPty(_env(cli), "--operator", "clerk")
    try:
        pty.wait_for("PIN: ")
        began = time.perf_counter()
        pty.line(PIN)
        pty.wait_for(PROMPT)
        login = time.perf_counter() - began
        confirm: list[float] = []
        whole: list[float] = []
        for i in range(vends):
            began = time.perf_counter()
            pty.line(WANTED[i % len(WANTED)])
            pty.wait_for("Amount (")
            pty.line("5")
            pty.wait_for("Sell? [y/N]")
            typed = time.perf_counter()  # the clerk's own time is left out of both figures
            pty.line("y")
            pty.wait_for("╯", PROMPT)
            done = time.perf_counter()
            confirm.append(done - typed)
            whole.append(done - began)
        pty.line("quit")
        assert pty.wait() == 0
        return login, confirm, whole
    finally:
        pty.close()


def _row(label: str, values: list[float]) -> str:
    return f"  {label:<52}{statistics.median(values):>8.3f} s{p95(values):>9.3f} s{len(values):>6}"


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-counter-"))
    try:
        raw, phrase = installation(root)
        rows = [
            _row("one-shot `stsvend vend`, raw KEK", one_shot(raw, ONESHOT_VENDS)),
            _row("one-shot `stsvend vend`, passphrase KEK", one_shot(phrase, ONESHOT_VENDS)),
        ]
        logins = []
        worst = 0.0
        for name, cli in (("raw KEK", raw), ("passphrase KEK", phrase)):
            login, confirm, whole = counter(cli, COUNTER_VENDS)
            logins.append(f"{name} {login:.2f} s")
            worst = max(worst, p95(confirm))
            rows.append(_row(f"counter, {name}: Enter on y -> receipt", confirm))
            rows.append(_row(f"counter, {name}: Enter on meter -> receipt", whole))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"A vend at the counter (SQLite, TEST keys, {os.cpu_count()} CPUs, load {load})")
    print(f"  {'':<52}{'median':>10}{'p95':>11}{'vends':>6}")
    print("\n".join(rows))
    print(f"  counter login (PIN Enter -> ready): {', '.join(logins)}")
    verdict = "met" if worst < TARGET else "NOT met"
    print(f"  target: counter p95 under {TARGET} s from Enter to receipt: {verdict} "
          f"({worst:.3f} s)")  # fmt: skip
    return 0 if worst < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
