"""The CRM formats shipped with stsvend, as entry points of ``stsvend.crm_importers``.

Each is a :class:`CrmFormat`: called with a mapping file (or None for the format's default) it
gives an importer that reads one export (:class:`~stsvend.adapters.crm.source.MappedCsv`).

>>> import io
>>> importer = isu()
>>> src = importer.source(io.StringIO("PARTNER,VERTRAG,GERNR,TARIFTYP\\n"))
>>> list(src.rows()), isu.description.split(":")[0]
([], 'SAP IS-U-like export')
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from attrs import frozen

from stsvend.adapters.crm.mapping import CrmMapping, load_mapping
from stsvend.adapters.crm.source import MappedCsv

__all__ = ["CrmFormat", "CrmImporter", "csv", "ise", "isu"]


@frozen
class CrmImporter:
    """A format with its mapping, ready to read exports."""

    format: str
    mapping: CrmMapping

    def source(self, stream: TextIO) -> MappedCsv:
        """The rows of one export (a text stream opened with ``newline=""``)."""
        return MappedCsv(self.format, self.mapping, stream)


@frozen
class CrmFormat:
    """An entry point's object: the format's name, a line for ``stsvend adapters list``."""

    name: str
    description: str

    def __call__(self, mapping: Path | None = None) -> CrmImporter:
        return CrmImporter(self.name, load_mapping(self.name, mapping))


isu = CrmFormat(
    "isu",
    "SAP IS-U-like export: PARTNER, VKONTO, VERTRAG, ANLAGE, VSTELLE, SPARTE, EINZDAT, "
    "AUSZDAT, EQUNR, GERNR, TARIFTYP",
)
ise = CrmFormat(
    "ise", "innosolv IS-E-like export: subjects, objects, meters, billing contracts (; and "
    "DD.MM.YYYY)"
)  # fmt: skip
csv = CrmFormat("csv", "plain CSV with stsvend's field names as its header")
