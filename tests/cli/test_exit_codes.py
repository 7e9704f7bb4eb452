"""The exit code of every error code the clerk's commands can raise, as docs/cli.md lists it.

The codes come from the error classes of the library (store, services, vending rules,
keystore); the numbers are the documented table of :mod:`stsvend_cli.exit_codes`.
"""

from __future__ import annotations

import pytest

from stsvend_cli.exit_codes import exit_code_for

#: error code → documented exit code (3 input, 4 key, 5 not found, 6 not allowed,
#: 7 refused by a business rule, 8 storage or configuration, 9 request id reused for another
#: request).
DOCUMENTED = {
    # not found
    "not_found": 5,
    "key_not_found": 5,
    # not allowed: the role, or a blocked meter
    "permission": 6,
    "pin_change_required": 6,
    "meter_blocked": 6,
    # refused by a business rule
    "refused": 7,
    "vend_limit": 7,
    "amount_too_small": 7,
    "amount_too_large": 7,
    "daily_limit": 7,
    "reversal": 7,
    "key_change": 7,
    "free_issue": 7,
    "emergency_credit": 7,
    "engineering": 7,
    # key problems
    "key_expired": 4,
    "keystore": 4,
    "kek": 4,
    "wrong_kek": 4,
    "keystore_file": 4,
    "keystore_mode": 4,
    "key_use": 4,
    "key_file": 4,
    "kcv": 4,
    # storage and configuration
    "storage": 8,
    "config": 8,
    "time_zone": 8,
    "output_file": 8,
    # a request id reused for a different request
    "idempotency_mismatch": 9,
    # invalid input
    "input": 3,
    "exists": 3,
    "money": 3,
    "tariff": 3,
    "identity": 3,
    "check_digit": 3,
    "weak_pin": 3,
}


@pytest.mark.parametrize(("code", "exit_code"), sorted(DOCUMENTED.items()))
def test_each_error_code_has_its_documented_exit_code(code: str, exit_code: int) -> None:
    assert exit_code_for(code) == exit_code
