"""The billing export as one JSON document: every account's figures, the totals, the checks.

>>> from stsvend.services.billing import AccountFigures, BillingExport
>>> export = BillingExport("2026-12-01", "2026-12-31", "", "", "ZAR", "City Power", (),
...                        AccountFigures(), (), True)
>>> json.loads(JsonExporter({}).render(export, {}))["totals"]["purchases"]
0
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stsvend.services.billing import BillingExport
from stsvend.services.results import as_doc

__all__ = ["JsonExporter"]


class JsonExporter:
    """``--format json``: ``as_doc`` of the export, keys sorted, two-space indent."""

    description = "billing export as JSON: per account money and units, totals, reconciliation"
    settings_required: tuple[str, ...] = ()
    needs_metering_points = False

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings

    def render(self, export: BillingExport, points: Mapping[str, str]) -> str:
        return json.dumps(as_doc(export), indent=2, sort_keys=True) + "\n"
