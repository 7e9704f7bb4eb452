"""Fixed receipt and listing texts, and the token's printed form.

>>> group_digits("23716100501183194197")
'2371 6100 5011 8319 4197'
"""

from __future__ import annotations

from stsvend.vending.reversal import REVERSAL_NOTICE

__all__ = [
    "COPY_MARK",
    "KEY_CHANGE_NOTICE",
    "REVERSAL_NOTICE",
    "TAX_INCLUDED_LABEL",
    "TEST_MARK",
    "TEST_NOTICE",
    "group_digits",
]

#: Shown on every receipt, log row and listing made with TEST keys.
TEST_MARK = "TEST"
TEST_NOTICE = "TEST KEYS: this token is for test meters only, it is not a sale of real credit"
#: Printed on a reprint.
COPY_MARK = "COPY"
#: Printed above key change tokens on a sale receipt.
KEY_CHANGE_NOTICE = (
    "Enter the key change tokens first, in the order printed, then the credit token."
)
#: The label of the tax memo line (prices include VAT).
TAX_INCLUDED_LABEL = "VAT included"


def group_digits(token: str) -> str:
    """A 20-digit token in five groups of four, as printed on receipts."""
    digits = token.replace(" ", "")
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))
