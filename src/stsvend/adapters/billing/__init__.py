"""Billing export formats: the adapters of the ``billing`` group (``stsvend.billing_exporters``).

An exporter's factory is called as ``factory(settings)`` (its ``[adapters.billing.NAME]`` table
or ``{}``) and returns a :class:`BillingExporter`, which renders a whole
:class:`~stsvend.services.billing.BillingExport` as text before anything is written (a refusal
leaves no file).  The installed formats: ``csv`` and ``json`` (money and units), ``mscons``
(units per metering point, an EDIFACT interchange).

>>> from stsvend.adapters.billing.json_format import JsonExporter
>>> isinstance(JsonExporter({}), BillingExporter)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from stsvend.services.billing import BillingExport

__all__ = ["BillingExporter", "exporter"]


@runtime_checkable
class BillingExporter(Protocol):
    """One billing export format."""

    #: Whether it needs the premise → metering point table (MSCONS).
    needs_metering_points: bool

    def render(self, export: BillingExport, points: Mapping[str, str]) -> str:
        """The whole export as text; ``points`` maps premises to metering points."""
        ...


def exporter(name: str, settings: Mapping[str, Any] | None) -> BillingExporter:
    """The installed exporter ``name``, made with its settings (an AdapterError if none)."""
    from stsvend.adapters.registry import make

    made: BillingExporter = make("billing", name, settings, BillingExporter, "a billing exporter")
    return made
