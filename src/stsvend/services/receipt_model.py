"""The answer of a sale, typed: what every receipt-bearing operation returns.

A credit vend, emergency credit, free issue, engineering and test token, a single meter's key
change, a reversal and a reprint all answer with a :class:`SaleReceipt`; a trial vend with a
:class:`TrialResult`.  Every field's name is the key of the answer's JSON form, which
:func:`~stsvend.services.results.as_doc` makes (the CLI's ``--json``); a key that only some
kinds of receipt have is an optional field, left out of the document while it is None.  The
stored form (with its version) is :mod:`stsvend.services.receipt_codec`'s.

Money is in minor units of the currency (integers), units in tenths of the meter's unit (STS
amounts), times are ISO 8601 text.

>>> from stsvend.services.results import as_doc
>>> line = BreakdownLine(LineKind.ENERGY, 8696, 500, 1, "1.500000")
>>> as_doc(line)
{'kind': 'energy', 'amount': 8696, 'units': 500, 'block': 1, 'price': '1.500000'}
>>> as_doc(MeterDoc("01000000017", "600727"))
{'drn': '01000000017', 'iin': '600727'}
"""

from __future__ import annotations

import attrs
from attrs import frozen

from stsvend.services.results import doc_key, doc_optional
from stsvend.vending.sale import LineKind
from stsvend.vending.tokenspec import TokenPurpose

__all__ = [
    "AccountCounters",
    "Breakdown",
    "BreakdownLine",
    "KeyDataDoc",
    "LineKind",
    "MeterDoc",
    "MonthCounters",
    "SalePoint",
    "SaleReceipt",
    "StateBefore",
    "TokenEntry",
    "TrialResult",
]


#: The metadata of a key some receipts lack (None: not in the document).
_OPTIONAL = doc_optional()


@frozen
class MeterDoc:
    """The meter as a receipt names it, under the key data its tokens are made with.

    A sale's meter has every field but ``ken``; an engineering token's has no resource, key
    type or EA; a test token's only its number; a key change's its current key data, the SGC as
    a number and the KEN too.
    """

    #: The meter number (DRN), digits only.
    drn: str
    #: The issuer identification number printed before the DRN.
    iin: str
    #: What the meter measures: electricity, water, gas or time.
    resource: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The supply group code: six digits as text on a sale's receipt, a number on a key change's.
    sgc: str | int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The key revision number.
    krn: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The tariff index.
    ti: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The key type (0-3).
    key_type: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The encryption algorithm's code ("07", "11").
    ea: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The base date year the TIDs count from (1993, 2014, 2035).
    base_date: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The key expiry number (a key change's receipt only).
    ken: int | None = attrs.field(default=None, metadata=_OPTIONAL)


@frozen
class KeyDataDoc:
    """Key data as a key change's receipt names its target."""

    #: The supply group code.
    sgc: int
    #: The tariff index.
    ti: int
    #: The key revision number.
    krn: int
    #: The key type (0-3).
    key_type: int
    #: The encryption algorithm's code ("07", "11").
    ea: str
    #: The base date year the TIDs count from.
    base_date: int
    #: The key expiry number.
    ken: int


@frozen
class TokenEntry:
    """A token on a receipt, as made and logged (a reversal's names it without its digits)."""

    #: What the receipt calls it ("Credit", "Key change 1 of 2").
    label: str
    #: The 20 digits (None on a reversal: the token is named, never handed out again).
    digits: str | None = attrs.field(metadata=doc_optional())
    #: The token class (0 credit, 1 test, 2 management).
    token_class: int = attrs.field(metadata=doc_key("class"))
    #: The token subclass.
    subclass: int
    #: Why it was issued.
    purpose: TokenPurpose
    #: The token identifier (minutes since the base date), None for a test token.
    tid: int | None = None
    #: The base date year of its TID.
    base_date: int | None = None
    #: Its amount: tenths of a unit for credit, the control value of a test token.
    amount: int | None = None
    #: The supply group code it was made under.
    sgc: int | None = None
    #: The key revision number it was made under.
    krn: int | None = None
    #: The tariff index it was made under.
    ti: int | None = None
    #: The key check value of a key change token's new key (hex text).
    kcv: str | None = None


@frozen
class BreakdownLine:
    """One line of where the money went."""

    #: What the line is (energy, fixed charge, a repayment …).
    kind: LineKind
    #: Its money, minor units (tax included where taxable).
    amount: int
    #: Its units, tenths (energy and free units lines).
    units: int
    #: The energy block it is in (1-based), None for other lines.
    block: int | None
    #: The block's unit price as stored ("1.500000" a unit), None for other lines.
    price: str | None


@frozen
class Breakdown:
    """Where a sale's money went, in minor units of ``currency``."""

    #: The currency's ISO 4217 code.
    currency: str
    #: The money handed over, minor units.
    tendered: int
    #: Credit from the account added to it, minor units.
    brought_forward: int
    #: The receipt's lines, in order.
    lines: tuple[BreakdownLine, ...]
    #: The VAT contained in the taxable lines (already inside their amounts), minor units.
    tax: int
    #: The VAT rate, basis points (1500 = 15%).
    tax_bp: int
    #: Money left on the account for the next sale, minor units.
    carried_forward: int


@frozen
class AccountCounters:
    """An account's balances, minor units."""

    #: Credit held for the next sale, minor units.
    credit_balance: int
    #: Debt being recovered from sales, minor units.
    debt: int
    #: Emergency credit not yet repaid, minor units.
    emergency_debt: int


@frozen
class MonthCounters:
    """An account's counters of the month."""

    #: Units sold this month, tenths.
    units: int
    #: Whether the month's fixed charge is paid.
    fixed_charge_paid: bool
    #: Whether the month's free basic units are issued.
    free_units_issued: bool


@frozen
class StateBefore:
    """The account and month counters before a sale: what a reversal puts back."""

    #: The account's balances.
    account: AccountCounters
    #: The month's counters.
    month: MonthCounters


@frozen
class SaleReceipt:
    """The answer of a receipt-bearing operation: the receipt's content, stored with the sale.

    Every receipt has the header (``kind`` … ``tax_number``), the meter, tokens and notes; the
    other fields belong to some kinds only (None: not on this receipt).  ``receipt`` and
    ``replayed`` are given once the sale is recorded; ``copy``, ``mark`` and ``reversed_by``
    only on a reprint.
    """

    #: credit, emergency, free_issue, engineering, test, key_change or reversal.
    kind: str
    #: The client's request id (a repeat with the same id gets this answer again).
    request_id: str
    #: When, UTC, ISO 8601.
    at: str
    #: When, local time of the utility, ISO 8601 to the second.
    local_time: str
    #: The operator's username.
    operator: str
    #: The terminal.
    terminal: str
    #: Made with test keys (marked TEST, not a sale of real credit).
    test: bool
    #: The utility's name.
    utility: str
    #: The utility's tax number.
    tax_number: str
    #: The meter (None: a test token for no meter).
    meter: MeterDoc | None
    #: The tokens, key change tokens first.
    tokens: tuple[TokenEntry, ...] = ()
    #: The receipt's foot notes.
    notes: tuple[str, ...] = ()
    #: The meter's unit (kWh, m³, min).
    unit: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The account's contract number.
    contract: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The account's customer number.
    customer: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The tariff's name.
    tariff: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: Where the money went (a credit vend).
    money: Breakdown | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The units issued (a reversal: taken back), tenths.
    units: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: Whether key change tokens go first on this receipt.
    key_change_first: bool | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The account and month before the sale.
    state_before: StateBefore | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: Emergency credit's debt, minor units.
    debt: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The currency of ``debt`` or ``refund``.
    currency: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: Why: a free issue's or reversal's reason, a key change's changed fields.
    reason: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The engineering token's kind (clear_credit, max_power_limit …).
    engineering: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The engineering token's value (watts, a register, a factor), None if it takes none.
    value: int | None = attrs.field(default=None, metadata=doc_optional(present_with="engineering"))
    #: The engineering token's work order.
    work_order: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The test token's control value (its bits choose the tests).
    control: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The test token's manufacturer code.
    manufacturer_code: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The key data a key change moves the meter to.
    target: KeyDataDoc | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: Whether the key change moves the meter to the next base date.
    rollover: bool | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The key change's state when it was made (pending, issued).
    state: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The receipt number a reversal reverses.
    reverses: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The money a reversal refunds, minor units.
    refund: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: The receipt number (the sale's id), once recorded.
    receipt: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: True: the answer to a repeated request id (nothing was issued again).
    replayed: bool | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: A reprint: marked COPY.
    copy: bool | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: A reprint's mark ("COPY").
    mark: str | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: A reprint of a reversed sale: the reversal's receipt number.
    reversed_by: int | None = attrs.field(default=None, metadata=_OPTIONAL)
    #: A sale through a vendor's terminal: the vendor, tender, commission and float.
    sale_point: SalePoint | None = attrs.field(default=None, metadata=_OPTIONAL)

    @property
    def number(self) -> int:
        """The receipt number of a recorded answer (``receipt``: every answer a service returns
        has it; only the stored one, inside the sale row that numbers it, has not)."""
        if self.receipt is None:
            raise ValueError("this answer is not recorded yet: it has no receipt number")
        return self.receipt


@frozen
class SalePoint:
    """What a sale through a vendor's terminal adds to its receipt."""

    #: The vendor's code.
    vendor: str
    #: How the customer paid the vendor (cash, card, mobile, bank, voucher).
    tender: str
    #: The currency of ``commission`` and ``float_left``.
    currency: str
    #: The vendor's commission on this sale, minor units (credited to its float).
    commission: int
    #: The vendor's float just after this sale, minor units (as this sale's transaction saw
    #: it: another terminal's sale at the same moment may not be counted yet).
    float_left: int


@frozen
class TrialResult:
    """The figures a vend would give: nothing written, no token made."""

    #: Always "trial".
    kind: str
    #: When, UTC, ISO 8601.
    at: str
    #: When, local time, ISO 8601 to the second.
    local_time: str
    #: The meter.
    meter: MeterDoc
    #: The account's contract number.
    contract: str
    #: The tariff's name.
    tariff: str
    #: Where the money would go.
    money: Breakdown
    #: The units it would give, tenths.
    units: int
    #: The meter's unit (kWh, m³, min).
    unit: str
    #: Whether key change tokens would go first on the receipt.
    key_change_pending: bool
    #: Whether the security module holds test keys.
    test: bool
