"""The example work-order file of docs/integration.md is valid against the published schema."""

from __future__ import annotations

import re
from pathlib import Path

from stsvend.adapters.workorders.xmlfile import read_orders

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration.md"


def test_the_documented_example_file_is_taken() -> None:
    [xml] = re.findall(r"```xml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    orders = read_orders(xml.encode("utf-8"), "example.xml")
    assert [(o.order_id, o.type, o.bulk_id) for o in orders] == [
        ("WO-100231", "installation", "ROLL-2026-12-A"),
        ("WO-100232", "replacement", "ROLL-2026-12-A"),
    ]
