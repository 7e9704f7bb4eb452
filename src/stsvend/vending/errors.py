"""Errors of the vending domain: the ``VendingError`` branch of :class:`~stsvend.StsError`.

Codes are stable (the CLI maps them to exit codes and ``--json`` error objects)::

    VendingError               a vending rule refused the request        code "vending"
    ├── VendLimitError         the amount is outside the meter's limits  code "vend_limit"
    │   ├── AmountTooSmall     below the minimum (or the fixed charge)   code "amount_too_small"
    │   ├── AmountTooLarge     above the maximum (or one token's reach)  code "amount_too_large"
    │   └── DailyLimitExceeded over the meter's daily maximum            code "daily_limit"
    ├── PermissionDenied       the operator's role may not do this       code "permission"
    ├── MeterBlocked           the meter is blocked                      code "meter_blocked"
    ├── MoneyError             a money amount or currency is malformed   code "money"
    ├── TariffError            a tariff is malformed or cannot apply     code "tariff"
    ├── EmergencyCreditError   emergency credit refused by its policy    code "emergency_credit"
    ├── FreeIssueError         a free issue refused by its rules         code "free_issue"
    ├── ReversalError          a reversal refused by its rules           code "reversal"
    ├── EngineeringRuleError   an engineering/test token refused         code "engineering"
    ├── KeyChangeError         a key change not allowed or not possible  code "key_change"
    └── TimeZoneError          the utility's time zone is unknown        code "time_zone"

Key expiry and TID range refusals use the core's :class:`~stsvend.errors.KeyExpiredError`
(code "key_expired") and :class:`~stsvend.errors.TidError` (code "tid"); a meter whose base
date has run out gets :class:`RolloverRequiredError` (a ``TidError``, code "rollover_required"),
which names the command that rolls it over.

>>> AmountTooSmall("R 5.00 is below the minimum R 10.00").code
'amount_too_small'
>>> issubclass(DailyLimitExceeded, VendLimitError)
True
"""

from __future__ import annotations

from stsvend.errors import StsError, TidError

__all__ = [
    "AmountTooLarge",
    "AmountTooSmall",
    "DailyLimitExceeded",
    "EmergencyCreditError",
    "EngineeringRuleError",
    "FreeIssueError",
    "InsufficientFunds",
    "KeyChangeError",
    "MeterBlocked",
    "MoneyError",
    "PermissionDenied",
    "ReversalError",
    "RolloverRequiredError",
    "TariffError",
    "TimeZoneError",
    "VendLimitError",
    "VendingError",
]


class VendingError(StsError):
    code = "vending"
    default_message = "a vending rule refused the request"


class InsufficientFunds(VendingError):
    code = "insufficient_funds"
    default_message = "the vendor's float cannot cover the sale"


class VendLimitError(VendingError):
    code = "vend_limit"
    default_message = "the amount is outside the meter's vend limits"


class AmountTooSmall(VendLimitError):
    code = "amount_too_small"
    default_message = "the amount is below the minimum vend"


class AmountTooLarge(VendLimitError):
    code = "amount_too_large"
    default_message = "the amount is above the maximum vend"


class DailyLimitExceeded(VendLimitError):
    code = "daily_limit"
    default_message = "the amount would pass the meter's daily maximum"


class PermissionDenied(VendingError):
    code = "permission"
    default_message = "the operator's role does not allow this"


class MeterBlocked(VendingError):
    code = "meter_blocked"
    default_message = "the meter is blocked: no token is issued for it"


class MoneyError(VendingError, ValueError):
    code = "money"
    default_message = "the money amount is not valid"


class TariffError(VendingError, ValueError):
    code = "tariff"
    default_message = "the tariff is not valid or cannot be applied"


class EmergencyCreditError(VendingError):
    code = "emergency_credit"
    default_message = "emergency credit is not available for this account"


class FreeIssueError(VendingError):
    code = "free_issue"
    default_message = "the free issue is not allowed"


class ReversalError(VendingError):
    code = "reversal"
    default_message = "the sale cannot be reversed"


class EngineeringRuleError(VendingError):
    code = "engineering"
    default_message = "the engineering or test token is not allowed"


class KeyChangeError(VendingError):
    code = "key_change"
    default_message = "the key change is not allowed"


class TimeZoneError(VendingError, ValueError):
    code = "time_zone"
    default_message = "the utility's time zone is not known"


class RolloverRequiredError(TidError):
    code = "rollover_required"
    default_message = (
        "rollover key change required: the meter's base date has no TID left "
        "(run `stsvend key-change group SGC --rollover`)"
    )
