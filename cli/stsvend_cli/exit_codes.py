"""Exit codes of the ``stsvend`` command (documented in docs/cli.md).

| code | meaning |
|---|---|
| 0 | success |
| 1 | some lines of a ``--jsonl`` batch failed (each has its error object) |
| 2 | usage error: unknown option, missing argument (click's own code) |
| 3 | invalid input: a token, amount, meter number or field the standard refuses |
| 4 | key problem: bad key data, wrong key-encryption key, expired key |
| 5 | not found: unknown meter, key, operator or record |
| 6 | not allowed: the operator's role does not permit the command, or the meter is blocked |
| 7 | refused by a business rule: vend limits, reversal rules, key change state |
| 8 | storage or configuration problem |
| 70 | internal error (a bug: please report it with the log file) |
"""

from __future__ import annotations

__all__ = ["EXIT_BATCH_FAILED", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "exit_code_for"]

EXIT_OK = 0
EXIT_BATCH_FAILED = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_KEY = 4
EXIT_NOT_FOUND = 5
EXIT_NOT_ALLOWED = 6
EXIT_REFUSED = 7
EXIT_STORAGE = 8
EXIT_INTERNAL = 70

# Error codes (StsError.code) by exit code; anything not listed that is an StsError is input.
_BY_CODE: dict[str, int] = {
    "key": EXIT_KEY,
    "key_expired": EXIT_KEY,
    "keystore": EXIT_KEY,
    "not_found": EXIT_NOT_FOUND,
    "permission": EXIT_NOT_ALLOWED,
    "blocked": EXIT_NOT_ALLOWED,
    "limit": EXIT_REFUSED,
    "refused": EXIT_REFUSED,
    "storage": EXIT_STORAGE,
    "config": EXIT_STORAGE,
}


def exit_code_for(error_code: str) -> int:
    """The exit code for an :class:`~stsvend.errors.StsError` code."""
    return _BY_CODE.get(error_code, EXIT_INPUT)
