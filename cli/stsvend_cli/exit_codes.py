"""Exit codes of the ``stsvend`` command (documented in docs/cli.md).

| code | meaning |
|---|---|
| 0 | success |
| 1 | some lines of a ``--jsonl`` batch failed (each has its error object) |
| 2 | usage error: unknown option, missing argument (click's own code) |
| 3 | invalid input: a token, amount, meter number or field the standard refuses, a weak PIN |
| 4 | key problem: bad key data, wrong key-encryption key, expired key |
| 5 | not found: unknown meter, key, operator or record |
| 6 | not allowed: wrong PIN, operator locked or disabled, new PIN due, role, blocked meter |
| 7 | refused by a business rule: vend limits, reversal rules, key change state |
| 8 | storage or configuration problem, or an output file that cannot be written |
| 9 | the request id was already used for a different request (nothing was issued) |
| 10 | the sale was recorded but its receipt did not print: reprint it, never sell again |
| 70 | internal error (a bug: please report it with the log file) |
"""

from __future__ import annotations

from stsvend.error_codes import Outcome, describe

__all__ = [
    "EXIT_BATCH_FAILED",
    "EXIT_IDEMPOTENCY_MISMATCH",
    "EXIT_INTERNAL",
    "EXIT_NOT_PRINTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "exit_code_for",
]

EXIT_OK = 0
EXIT_BATCH_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_KEY = 4
EXIT_NOT_FOUND = 5
EXIT_NOT_ALLOWED = 6
EXIT_REFUSED = 7
EXIT_STORAGE = 8
EXIT_IDEMPOTENCY_MISMATCH = 9
EXIT_NOT_PRINTED = 10
EXIT_INTERNAL = 70

# One exit code per outcome of the error table (src/stsvend/error_codes.py).
_BY_OUTCOME: dict[Outcome, int] = {
    Outcome.INPUT: EXIT_INPUT,
    Outcome.KEY: EXIT_KEY,
    Outcome.NOT_FOUND: EXIT_NOT_FOUND,
    Outcome.NOT_ALLOWED: EXIT_NOT_ALLOWED,
    Outcome.REFUSED: EXIT_REFUSED,
    Outcome.STORAGE: EXIT_STORAGE,
    Outcome.IDEMPOTENCY: EXIT_IDEMPOTENCY_MISMATCH,
    Outcome.NOT_PRINTED: EXIT_NOT_PRINTED,
}


def exit_code_for(error_code: str) -> int:
    """The exit code for an :class:`~stsvend.errors.StsError` code.

    >>> exit_code_for("daily_limit"), exit_code_for("not_found"), exit_code_for("crc")
    (7, 5, 3)
    """
    return _BY_OUTCOME[describe(error_code).outcome]
