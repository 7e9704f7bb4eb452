"""Reading one work-order file: size first, then safe XML, then the schema, then check digits.

The order of the checks is the defence: a file over the size limit is refused from its size on
disk, before a byte of it is parsed; the XML is parsed by defusedxml with DTDs forbidden (so no
entity, internal or external, is ever declared: no billion laughs, no external entity, no
network access); the tree is validated against the published schema (``docs/workorder.xsd``:
order type codes, meter models, meter number shapes, dates); then each meter number's Luhn check
digit is checked (stsvend's own DRN check).  Any refusal is a :class:`WorkOrderFileError` whose
message is the reason written beside the rejected file: it names the rule, never the file's
content beyond the order id.

>>> try:
...     read_orders(b"<x/>", "f.xml")
... except WorkOrderFileError as exc:
...     print(exc.code, exc.message[:32])
workorder_file f.xml: not a work-order document
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

from stsvend import sts
from stsvend.errors import StsError
from stsvend.services.workorders.model import OrderInput, WorkOrderFileError

__all__ = ["DEFAULT_MAX_BYTES", "NS", "read_file", "read_orders", "schema"]

NS = "urn:stsvend:workorder:1"
#: The largest file taken (10 MiB: a bulk order of 10 000 orders is about 4 MiB).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@functools.cache
def schema() -> Any:
    """The published schema, loaded once (xmlschema; the copy shipped with the package)."""
    import xmlschema

    text = resources.files("stsvend.adapters.workorders").joinpath("workorder.xsd")
    with resources.as_file(text) as path:
        return xmlschema.XMLSchema(str(path))


def _parse(data: bytes, name: str) -> Any:
    from xml.etree.ElementTree import ParseError

    import defusedxml
    from defusedxml.ElementTree import fromstring

    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise WorkOrderFileError(f"{name}: a DTD is not allowed in a work-order file") from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise WorkOrderFileError(f"{name}: entities are not allowed in a work-order file") from None
    except ParseError as exc:
        raise WorkOrderFileError(f"{name}: not well-formed XML ({exc})") from None


def _text(elem: Any, tag: str) -> str | None:
    found = elem.find(f"{{{NS}}}{tag}")
    return None if found is None or found.text is None else str(found.text).strip()


def _drn(value: str | None, order_id: str, name: str) -> str | None:
    if value is None:
        return None
    try:
        sts.MeterIdentity.parse(None, value)
    except StsError as exc:
        raise WorkOrderFileError(f"{name}: order {order_id}: meter number: {exc.message}") from None
    return value


def _order(elem: Any, bulk_id: str | None, name: str) -> OrderInput:
    order_id = _text(elem, "orderId") or ""
    kind = _text(elem, "type") or ""
    meter = elem.find(f"{{{NS}}}meter")
    number = model = sgc = None
    if meter is not None:
        number, model, sgc = _text(meter, "number"), _text(meter, "model"), _text(meter,
                                                                                  "supplyGroup")
    old = _text(elem, "oldMeter")
    if kind in ("installation", "replacement") and meter is None:
        raise WorkOrderFileError(f"{name}: order {order_id}: an {kind} names its meter")
    if kind in ("replacement", "removal") and old is None:
        raise WorkOrderFileError(f"{name}: order {order_id}: a {kind} names the old meter")
    if kind == "removal" and meter is not None:
        raise WorkOrderFileError(f"{name}: order {order_id}: a removal installs no meter")
    return OrderInput(
        order_id=order_id, type=kind, meter=_drn(number, order_id, name), model=model,
        sgc=None if sgc is None else int(sgc), old_meter=_drn(old, order_id, name),
        contract=_text(elem, "contract"), premise=_text(elem, "premise"),
        planned_date=_text(elem, "plannedDate"), bulk_id=bulk_id,
    )  # fmt: skip


def read_orders(data: bytes, name: str) -> list[OrderInput]:
    """The orders of one file's bytes (a bulk order split into single orders)."""
    root = _parse(data, name)
    if root.tag not in (f"{{{NS}}}workOrder", f"{{{NS}}}workOrders"):
        raise WorkOrderFileError(f"{name}: not a work-order document (expected workOrder or "
                                 f"workOrders in {NS})")  # fmt: skip
    error = next(iter(schema().iter_errors(root)), None)
    if error is not None:
        where = error.path or "the document"
        raise WorkOrderFileError(f"{name}: against the schema at {where}: {error.reason}")
    if root.tag == f"{{{NS}}}workOrder":
        return [_order(root, None, name)]
    bulk = str(root.get("bulkId"))
    return [_order(elem, bulk, name) for elem in root.findall(f"{{{NS}}}workOrder")]


def read_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[OrderInput]:
    """The orders of the file at ``path``: its size is checked before it is read."""
    size = path.stat().st_size
    if size > max_bytes:
        raise WorkOrderFileError(f"{path.name}: {size} bytes, over the limit of {max_bytes}: "
                                 "not read")  # fmt: skip
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew since the check: still refused unparsed
        raise WorkOrderFileError(f"{path.name}: over the limit of {max_bytes} bytes: not read")
    return read_orders(data, path.name)
