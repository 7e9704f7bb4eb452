"""Reading work-order files: hostile XML refused before any harm, the schema's rules, the
meter number's check digit, bulk orders split; and the published schema is the shipped one."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.adapters.workorders.xmlfile import read_file, read_orders
from stsvend.services.workorders import WorkOrderFileError
from tests.workorders.support import NS, bulk, new_meter, order_xml, single

ROOT = Path(__file__).resolve().parents[2]

BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<workOrder xmlns="{NS}"><orderId>&lol9;</orderId></workOrder>
"""
EXTERNAL = f"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<workOrder xmlns="{NS}"><orderId>&secret;</orderId></workOrder>
"""
EXTERNAL_DTD = f"""<?xml version="1.0"?>
<!DOCTYPE workOrder SYSTEM "http://127.0.0.1:9/evil.dtd">
<workOrder xmlns="{NS}"><orderId>WO-1</orderId></workOrder>
"""


def refused(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(WorkOrderFileError) as info:
        read_orders(data, "f.xml")
    assert info.value.code == "workorder_file"
    return info.value.message


def test_a_single_order() -> None:
    [order] = read_orders(single("WO-1", meter=new_meter(1)).encode(), "f.xml")
    assert (order.order_id, order.type, order.meter, order.sgc, order.bulk_id) == (
        "WO-1", "installation", new_meter(1), 123456, None)  # fmt: skip
    assert order.planned_date == "2026-12-10"


def test_a_bulk_order_is_split_into_single_orders() -> None:
    text = bulk("B-7", [order_xml(f"WO-{i}", meter=new_meter(i)) for i in range(1, 6)]
                + [order_xml("WO-R", "replacement", meter=new_meter(9), old=new_meter(8))])
    orders = read_orders(text.encode(), "f.xml")
    assert [o.order_id for o in orders] == ["WO-1", "WO-2", "WO-3", "WO-4", "WO-5", "WO-R"]
    assert {o.bulk_id for o in orders} == {"B-7"}
    assert orders[-1].old_meter == new_meter(8)


def test_billion_laughs_is_refused_unexpanded() -> None:
    started = time.monotonic()
    assert "DTD is not allowed" in refused(BILLION_LAUGHS)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("text", [EXTERNAL, EXTERNAL_DTD])
def test_external_entities_and_dtds_are_refused(text: str) -> None:
    message = refused(text)
    assert "DTD is not allowed" in message and "root:" not in message


def test_a_huge_file_is_refused_from_its_size_unread(tmp_path: Path) -> None:
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as out:  # sparse: 100 MB on paper, nothing on disk
        out.truncate(100 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(WorkOrderFileError, match="over the limit of 10485760: not read"):
        read_file(huge)
    assert time.monotonic() - started < 0.5


def test_the_limit_is_a_setting(tmp_path: Path) -> None:
    path = tmp_path / "f.xml"
    path.write_text(single("WO-1", meter=new_meter(1)))
    with pytest.raises(WorkOrderFileError, match="over the limit of 100"):
        read_file(path, max_bytes=100)
    assert len(read_file(path, max_bytes=10_000)) == 1


@pytest.mark.parametrize(("text", "why"), [
    (single("WO-1", meter=new_meter(1), model="ACME-1"), "model"),
    (single("WO-1", "repair", meter=new_meter(1)), "type"),
    (single("WO-1", meter="0100000010"), "number"),
    (single("WO-1", meter=new_meter(1), day="2026-13-01"), "plannedDate"),
    (single("WO-1", meter=new_meter(1), sgc="12345"), "supplyGroup"),
    (single("WO 1", meter=new_meter(1)), "orderId"),
    (f'<workOrder xmlns="{NS}"><orderId>WO-1</orderId></workOrder>', "type"),
    (bulk("B-1", [order_xml("WO-1", meter=new_meter(1)), order_xml("WO-1", meter=new_meter(2))]),
     "oneOrderOnce"),
], ids=["model", "type", "meter-shape", "date", "sgc", "order-id", "missing",
        "duplicate"])  # fmt: skip
def test_the_schema_refuses(text: str, why: str) -> None:
    message = refused(text)
    assert "against the schema" in message and why in message, message


def test_a_bad_check_digit_is_refused() -> None:
    good = new_meter(1)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert "check digit" in refused(single("WO-1", meter=bad))
    assert "check digit" in refused(single("WO-2", "removal", old=bad))


@pytest.mark.parametrize(("text", "why"), [
    (single("WO-1"), "names its meter"),
    (single("WO-1", "replacement", meter=new_meter(1)), "names the old meter"),
    (single("WO-1", "removal", meter=new_meter(1), old=new_meter(2)), "installs no meter"),
    ("<workOrder", "not well-formed"),
    (b"\xff\xfe<", "not well-formed"),
    ("<other/>", "not a work-order document"),
])  # fmt: skip
def test_orders_that_make_no_sense_are_refused(text: str | bytes, why: str) -> None:
    assert why in refused(text)


@given(st.binary(max_size=300))
def test_any_bytes_are_orders_or_a_refusal(data: bytes) -> None:
    with contextlib.suppress(WorkOrderFileError):
        read_orders(data, "f.xml")


def test_the_published_schema_is_the_one_shipped() -> None:
    shipped = ROOT / "src" / "stsvend" / "adapters" / "workorders" / "workorder.xsd"
    assert (ROOT / "docs" / "workorder.xsd").read_bytes() == shipped.read_bytes()
