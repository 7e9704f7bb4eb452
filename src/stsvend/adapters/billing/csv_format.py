"""The billing export as CSV: one row per account, then a ``TOTAL`` row.

The energy by block is a pair of columns per block (``energy_block_N_amount``,
``energy_block_N_units``) for every block any account used in the period.  Money is in minor
units, units in tenths of the meter's unit.

>>> from stsvend.services.billing import AccountFigures, BillingExport
>>> export = BillingExport("2026-12-01", "2026-12-31", "", "", "ZAR", "City Power", (),
...                        AccountFigures(), (), True)
>>> CsvExporter({}).render(export, {}).splitlines()[1][:30]
'TOTAL,,,,,ZAR,0,0,0,0,0,0,0,0,'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import attrs

from stsvend.services.billing import AccountFigures, BillingExport

__all__ = ["FIGURES", "CsvExporter"]

#: The figure columns, in order (the blocks' columns follow them).
FIGURES = tuple(f.name for f in attrs.fields(AccountFigures) if f.name != "energy_by_block")


class CsvExporter:
    """``--format csv``."""

    description = "billing export as CSV: one row per account and a total row (money, units)"
    settings_required: tuple[str, ...] = ()
    needs_metering_points = False

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings

    def render(self, export: BillingExport, points: Mapping[str, str]) -> str:
        blocks = sorted({b.block for a in export.accounts for b in a.figures.energy_by_block}
                        | {b.block for b in export.totals.energy_by_block})  # fmt: skip
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["contract", "customer", "meter", "premise", "unit", "currency",
                         *FIGURES,
                         *[f"energy_block_{n}_{what}" for n in blocks
                           for what in ("amount", "units")]])  # fmt: skip

        def row(head: list[str], f: AccountFigures) -> list[Any]:
            by = {b.block: b for b in f.energy_by_block}
            cells: list[Any] = [*head, export.currency, *[getattr(f, n) for n in FIGURES]]
            for n in blocks:
                cells += [by[n].amount, by[n].units] if n in by else [0, 0]
            return cells

        for a in export.accounts:
            writer.writerow(row([a.contract, a.customer, a.meter, a.premise or "", a.unit],
                                a.figures))  # fmt: skip
        writer.writerow(row(["TOTAL", "", "", "", ""], export.totals))
        return out.getvalue()
