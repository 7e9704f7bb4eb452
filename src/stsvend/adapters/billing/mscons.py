"""The billing export as an MSCONS consumption report: units per metering point, no money.

One EDIFACT interchange (syntax UNOC 3) holding one MSCONS D.04B message, built with pydifact:

``UNB`` interchange header · ``UNH`` message header · ``BGM`` (7: consumption report) ·
``DTM+137`` document date · ``NAD+MS`` sender, ``NAD+MR`` recipient · ``UNS+D`` (the detail
section starts) · per metering point: ``LOC+172`` the metering point, ``DTM+163`` / ``DTM+164``
the period's first and last day, ``LIN`` the line, ``QTY+220`` the units issued (in the meter's
unit: KWH, MTQ, MIN), ``DTM+163`` / ``DTM+164`` the quantity's period · ``UNT`` · ``UNZ``.

Accounts that share a premise (one contract closed, the next opened) are summed under its
metering point.  An account without a premise, or a premise without a metering point, refuses the
whole export (:class:`~stsvend.services.metering_points.MeteringPointMissing`, naming it).

Settings (``[adapters.billing.mscons]``, all optional): ``sender`` and ``recipient`` (the
parties' identifiers, default ``STSVEND`` and ``BILLING``), ``code_list`` (their code list
agency, default ``293``: the BDEW code numbers; ``9``: GS1 GLNs).

>>> from stsvend.services.billing import AccountBilling, AccountFigures, BillingExport
>>> account = AccountBilling("C-1", "K-1", "01000000017", "P-1", "kWh", AccountFigures(units=505))
>>> export = BillingExport("2026-12-01", "2026-12-31", "", "", "ZAR", "City Power", (account,),
...                        AccountFigures(units=505), (), True)
>>> text = MsconsExporter({}).render(export, {"P-1": "DE0001"})
>>> [s.tag for s in Interchange.from_str(text).segments][3:9]
['NAD', 'NAD', 'UNS', 'LOC', 'DTM', 'DTM']
>>> "QTY+220:50.5:KWH'" in text
True
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment

from stsvend.services.billing import BillingExport
from stsvend.services.metering_points import MeteringPointMissing

__all__ = ["UNIT_CODES", "MsconsExporter"]

#: The meter's unit → the UN/ECE recommendation 20 code of the quantity.
UNIT_CODES = {"kWh": "KWH", "m³": "MTQ", "min": "MIN"}
MESSAGE_TYPE = ("MSCONS", "D", "04B", "UN", "2.4c")


def _day(value: str) -> str:
    return date.fromisoformat(value).strftime("%Y%m%d")


def _quantity(tenths: int) -> str:
    sign = "-" if tenths < 0 else ""
    return f"{sign}{abs(tenths) // 10}.{abs(tenths) % 10}"


class MsconsExporter:
    """``--format mscons``."""

    description = "billing export as MSCONS (EDIFACT): units per metering point, no money"
    settings_required: tuple[str, ...] = ()
    needs_metering_points = True

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.sender = str(settings.get("sender", "STSVEND"))
        self.recipient = str(settings.get("recipient", "BILLING"))
        self.code_list = str(settings.get("code_list", "293"))

    def quantities(
        self, export: BillingExport, points: Mapping[str, str]
    ) -> dict[tuple[str, str], int]:
        """(metering point, unit code) → units; refuses an account it cannot place."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        for account in export.accounts:
            if account.premise is None:
                raise MeteringPointMissing(
                    f"contract {account.contract} has no premise: MSCONS needs one (set it "
                    "from the CRM)"
                )
            point = points.get(account.premise)
            if point is None:
                raise MeteringPointMissing(
                    f"premise {account.premise} has no metering point: add it with `stsvend "
                    "billing metering-points import FILE`"
                )
            out[(point, UNIT_CODES.get(account.unit, "C62"))] += account.figures.units
        return dict(sorted(out.items()))

    def render(self, export: BillingExport, points: Mapping[str, str]) -> str:
        quantities = self.quantities(export, points)
        first, last = _day(export.from_), _day(export.to)
        # The references are the period's own: the same export of the same period is the
        # same interchange, byte for byte, apart from its preparation time.
        digest = hashlib.sha256(repr((first, last, quantities)).encode()).hexdigest()
        reference = digest[:14].upper()
        now = datetime.now().astimezone()
        message = Message("1", MESSAGE_TYPE)
        message.add_segments([
            Segment("BGM", "7", f"MS{reference}", "9"),
            Segment("DTM", ["137", now.strftime("%Y%m%d%H%M"), "203"]),
            Segment("NAD", "MS", [self.sender, "", self.code_list]),
            Segment("NAD", "MR", [self.recipient, "", self.code_list]),
            Segment("UNS", "D"),
        ])  # fmt: skip
        for line, ((point, unit), units) in enumerate(quantities.items(), start=1):
            message.add_segments([
                Segment("LOC", "172", point),
                Segment("DTM", ["163", first, "102"]),
                Segment("DTM", ["164", last, "102"]),
                Segment("LIN", str(line)),
                Segment("QTY", ["220", _quantity(units), unit]),
                Segment("DTM", ["163", first, "102"]),
                Segment("DTM", ["164", last, "102"]),
            ])  # fmt: skip
        interchange = Interchange(
            sender=[self.sender, "500"], recipient=[self.recipient, "500"],
            control_reference=reference, syntax_identifier=("UNOC", 3), timestamp=now,
        )  # fmt: skip
        interchange.add_message(message)
        return interchange.serialize(break_lines=True) + "\n"
