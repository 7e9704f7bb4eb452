"""What to ask the security module for: a token's class, subclass and raw fields, and why.

The domain decides *what* token to issue; the services hand the :class:`TokenSpec` to the
security module, which makes it under the meter's key
(``module.encode_token(meter, key_data, spec.token_class, spec.subclass, spec.fields)``).  The
domain never calls the security module itself.  Specs never round: a credit amount must be one
a token carries exactly, so that the ledger equals the token.

>>> spec = credit_spec(sts.Resource.ELECTRICITY, 500, tid=16000000, rnd=5)
>>> spec.token_class, spec.subclass, spec.fields, spec.purpose.value
(0, 0, {'rnd': 5, 'tid': 16000000, 'amount_field': 500}, 'sale')
>>> credit_spec(sts.Resource.ELECTRICITY, 20009, tid=1, rnd=5)
Traceback (most recent call last):
...
stsvend.errors.AmountError: 20009 tenths cannot be carried exactly (at most 20004 can)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from stsvend import sts
from stsvend.errors import AmountError, FieldRangeError
from stsvend.sts.layouts import CreditSubclass, TokenClass

__all__ = ["TokenPurpose", "TokenSpec", "credit_spec"]


class TokenPurpose(enum.Enum):
    """Why a token is issued (the token log records it)."""

    SALE = "sale"
    FREE_ISSUE = "free_issue"
    EMERGENCY_CREDIT = "emergency_credit"
    KEY_CHANGE = "key_change"
    ENGINEERING = "engineering"
    TEST = "test"
    #: A replaced meter's remaining credit, given to its new meter (a work order's).
    CREDIT_TRANSFER = "credit_transfer"

    @property
    def is_credit(self) -> bool:
        """A class 0 credit token (what a blocked or default-key meter never gets)."""
        return self in (TokenPurpose.SALE, TokenPurpose.FREE_ISSUE, TokenPurpose.EMERGENCY_CREDIT,
                        TokenPurpose.CREDIT_TRANSFER)


def _fields(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise FieldRangeError("token fields are a mapping of names to integers")
    return dict(value)


@frozen
class TokenSpec:
    """One token to make: class, subclass, raw fields (see ``stsvend.sts.layouts``), purpose."""

    token_class: int = field(converter=int)
    subclass: int = field(converter=int)
    fields: dict[str, int] = field(converter=_fields, hash=False)
    purpose: TokenPurpose
    #: The meaningful amount for the log: tenths of a unit, watts, a register; None if none.
    amount: int | None = None

    @property
    def tid(self) -> int | None:
        return self.fields.get("tid")


def credit_spec(
    resource: sts.Resource,
    units: int,
    *,
    tid: int,
    rnd: int,
    purpose: TokenPurpose = TokenPurpose.SALE,
) -> TokenSpec:
    """A class 0 credit token of ``units`` STS tenths (must be encodable exactly)."""
    if type(units) is not int or units < 0:
        raise AmountError(f"credit is a non-negative integer of tenths, got {units!r}")
    exact = sts.encodable_at_most(units)
    if exact != units:
        raise AmountError(f"{units} tenths cannot be carried exactly (at most {exact} can)")
    if not purpose.is_credit:
        raise FieldRangeError(f"a credit token is not issued for {purpose.value}")
    return TokenSpec(
        TokenClass.TRANSFER_CREDIT,
        CreditSubclass(sts.Resource(resource)),
        {"rnd": rnd, "tid": tid, "amount_field": sts.encode_amount(units)},
        purpose,
        units,
    )
