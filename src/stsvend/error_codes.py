"""The one table of error codes: every ``StsError.code``, what it means, and how each front end
answers it.

The CLI takes its exit code from the code's :class:`Outcome` (``cli/stsvend_cli/exit_codes.py``),
an HTTP front end its status from the same row; both put the code itself in what they print, so
that a client keys on the code, never on the message.  Codes never change once published; a
new kind of refusal gets a new row.  A test walks the error tree and checks that every code
raised anywhere is in this table.

>>> CODES["daily_limit"].outcome, CODES["daily_limit"].http_status
(<Outcome.REFUSED: 'refused'>, 409)
>>> describe("no_such_code").outcome   # an unknown code is treated as bad input
<Outcome.INPUT: 'input'>
"""

from __future__ import annotations

from enum import Enum

from attrs import frozen

__all__ = ["CODES", "ErrorCode", "Outcome", "describe"]


class Outcome(Enum):
    """What kind of answer a code is: each front end maps these, never the codes one by one."""

    INPUT = "input"  # the request or a value in it is wrong: fix it and send it again
    KEY = "key"  # key material or key custody: an administrator's matter
    NOT_FOUND = "not_found"  # no such meter, operator, key or record
    NOT_ALLOWED = "not_allowed"  # who is asking may not do this (PIN, role, lock, block)
    REFUSED = "refused"  # a business rule says no (limits, states, reversal rules)
    STORAGE = "storage"  # the store, the configuration or an output cannot be used
    IDEMPOTENCY = "idempotency"  # a request id reused for a different request
    NOT_PRINTED = "not_printed"  # the sale is recorded; only its receipt failed: reprint it


@frozen
class ErrorCode:
    code: str
    outcome: Outcome
    http_status: int
    meaning: str


_I, _K, _N, _A, _R, _S = (
    Outcome.INPUT, Outcome.KEY, Outcome.NOT_FOUND, Outcome.NOT_ALLOWED, Outcome.REFUSED,
    Outcome.STORAGE,
)  # fmt: skip

_ROWS: tuple[tuple[str, Outcome, int, str], ...] = (
    # the root and tokens and identities (stsvend.errors)
    ("error", _I, 422, "an error of no narrower kind (the root of the tree)"),
    ("token", _I, 422, "a token or its fields are wrong"),
    ("format", _I, 422, "not 20 digits, or not below 2**66"),
    ("crc", _I, 422, "the CRC does not match (also: wrong key, another meter)"),
    ("range", _I, 422, "a field value does not fit its bits or range"),
    ("amount", _I, 422, "an amount cannot be encoded"),
    ("tid", _I, 422, "a TID or date outside the base date's range"),
    ("rollover_required", _I, 422, "the base date's TID range is used up: roll over first"),
    ("function", _I, 422, "a token class, subclass or algorithm that is not handled"),
    ("identity", _I, 422, "an IIN, DRN or PAN is malformed"),
    ("check_digit", _I, 422, "a Luhn check digit is wrong"),
    ("input", _I, 422, "a request or line is not of the expected shape"),
    ("money", _I, 422, "an amount of money is malformed or in another currency"),
    ("tariff", _I, 422, "a tariff is malformed or does not fit the meter"),
    ("exists", _I, 409, "a record with that identity already exists"),
    ("weak_pin", _I, 422, "a new PIN is too short, too simple or reused"),
    ("vending", _I, 422, "a vending request is wrong"),
    ("workorder_file", _I, 422, "a work-order file is refused (size, XML, schema, meter number)"),
    # the meter model
    ("meter", _I, 422, "the meter model refused an entry"),
    ("meter_clock", _I, 422, "the meter's time runs backwards"),
    ("meter_config", _I, 422, "a meter profile setting is impossible"),
    ("meter_state", _I, 422, "a saved meter snapshot does not load"),
    # keys
    ("key", _K, 422, "key data is wrong (KRN, key type, SGC, TI, vending key size)"),
    ("key_expired", _K, 409, "the TID is beyond the key expiry number (KEN)"),
    ("key_use", _K, 409, "the key may not be used this way"),
    ("key_file", _K, 422, "a key file is malformed"),
    ("kcv", _K, 422, "a key check value does not match"),
    ("published_test_key", _K, 409, "a published test key refused outside a TEST store"),
    ("keystore", _K, 503, "the keystore cannot be used"),
    ("keystore_file", _K, 503, "the keystore file cannot be read or written"),
    ("keystore_mode", _K, 503, "the keystore is in the other mode (TEST or production)"),
    ("kek", _K, 503, "the key-encryption key is missing or malformed"),
    ("wrong_kek", _K, 503, "the key-encryption key does not open the keystore"),
    # not found
    ("not_found", _N, 404, "no meter, operator, sale or other record of that name"),
    ("key_not_found", _N, 404, "no vending key for that supply group, KRN and type"),
    ("metering_point", _N, 404, "a premise has no metering point (or an account no premise)"),
    # not allowed
    ("permission", _A, 403, "wrong PIN, operator locked or disabled, or the role may not"),
    ("pin_change_required", _A, 403, "the operator must choose a new PIN first"),
    ("meter_blocked", _A, 403, "the meter is blocked from receiving tokens"),
    ("unauthenticated", _A, 401, "no valid, active terminal key was given"),
    ("session_expired", _A, 401, "the operator's session at the terminal is over: log in again"),
    # refused by a rule
    ("refused", _R, 409, "a business rule refused the request"),
    ("vend_limit", _R, 409, "a vend limit"),
    ("amount_too_small", _R, 409, "the amount is below the smallest sale"),
    ("amount_too_large", _R, 409, "the amount is above the largest sale"),
    ("daily_limit", _R, 409, "the meter's daily limit would be passed"),
    ("reversal", _R, 409, "the reversal rules refuse it"),
    ("key_change", _R, 409, "the key change's state does not allow it"),
    ("free_issue", _R, 409, "the free issue rules refuse it"),
    ("emergency_credit", _R, 409, "emergency credit is not available"),
    ("engineering", _R, 409, "the engineering token rules refuse it"),
    ("insufficient_funds", _R, 402, "the vendor's float and credit limit cannot cover the sale"),
    ("workorder", _R, 409, "the work order's type or state does not allow it"),
    ("not_reconciled", _R, 409, "the billing figures do not reconcile with ledger and token log"),
    ("rate_limited", _R, 429, "too many requests from a terminal key or address: ask again later"),
    # storage and configuration
    ("storage", _S, 503, "the database cannot be reached or used"),
    ("config", _S, 500, "the configuration is invalid"),
    ("time_zone", _S, 500, "the time zone is unknown or contradicts the store"),
    ("output_file", _S, 500, "an output file cannot be written"),
    ("adapter", _S, 503, "a plug-in adapter is missing, does not load or is not configured"),
    ("workorder_delivery", _S, 502, "an installer's system did not take a work order (retried)"),
    # a sale-point client (stsvend.client): the server did not answer
    ("unavailable", _S, 503, "the sale-point server cannot be reached; nothing was done"),
    ("outcome_unknown", _S, 504, "the server did not answer: fetch the purchase by its id"),
    # idempotency
    ("idempotency_mismatch", Outcome.IDEMPOTENCY, 409, "a request id reused for another request"),
    # the sale is done, its receipt is not
    ("receipt_not_printed", Outcome.NOT_PRINTED, 502, "recorded, but the receipt did not print"),
    ("not_delivered", Outcome.NOT_PRINTED, 502, "recorded, but the meter did not take the tokens"),
)

#: Every published code.
CODES: dict[str, ErrorCode] = {row[0]: ErrorCode(*row) for row in _ROWS}


def describe(code: str) -> ErrorCode:
    """The table's row for ``code``; a code not in it (a bug the table's test catches) is
    answered as bad input rather than hidden."""
    found = CODES.get(code)
    if found is not None:
        return found
    return ErrorCode(code, Outcome.INPUT, 422, "an error without a published code")
