"""Known answers for the JSON form of the token log and operation log results (export, verify,
seal, re-anchor, listing, manifest): ``as_doc`` of each is exactly the document the CLI prints
or writes beside an export, on both databases."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from typing import Any

import pytest

from stsvend.services import logs, operations, vend
from stsvend.services.manifest import Anchor, build_manifest
from stsvend.services.results import as_doc
from stsvend.tokenlog.op_reader import OpFilter
from stsvend.tokenlog.reader import LogFilter
from stsvend.tokenlog.verify import Finding
from stsvend.tokenlog.writer import last_seal
from tests.services.helpers import Installation, drn, installation_on

METER = drn(1)
AT = "2026-03-10T08:00:00+00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def inst(request: pytest.FixtureRequest) -> Iterator[Installation]:
    with installation_on(request.param) as it:
        yield it


def _newest(inst: Installation) -> dict[str, Any]:
    """The newest seal as an anchor document, read straight from the store."""
    with inst.svc.store.transaction() as conn:
        seal = last_seal(conn)
    assert seal is not None
    return {"seal": seal.seal_id, "mac": seal.mac.hex(), "at": seal.at.isoformat()}


def test_seal_and_its_anchor_documents(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "30")  # sealed at once (the first seal)
    inst.clock.advance(seconds=1)
    vend.vend(inst.svc, inst.clerk, METER, "30")  # the next automatic seal is not due yet
    sealed = logs.seal(inst.svc, inst.supervisor)
    assert isinstance(sealed, logs.Sealed)
    anchor = _newest(inst)
    at = "2026-03-10T08:00:01+00:00"
    assert anchor["at"] == at
    assert as_doc(sealed) == {"sealed": True, "seal": anchor["seal"], "heads": sealed.heads,
                              "mac": anchor["mac"], "at": at, "anchor": anchor}  # fmt: skip
    assert sealed.heads >= 1
    again = logs.seal(inst.svc, inst.supervisor)
    assert as_doc(again) == {"sealed": False, "reason": "no chain moved since the last seal",
                             "anchor": anchor}  # fmt: skip
    assert as_doc(logs.latest_anchor(inst.svc)) == anchor


def test_the_verify_document(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "30")
    logs.seal(inst.svc, inst.supervisor)
    anchor = _newest(inst)
    result = logs.verify(inst.svc, inst.supervisor, anchor=anchor["mac"])
    assert as_doc(result) == {
        "ok": True, "rows": result.rows, "chains": result.chains, "seals": anchor["seal"],
        "sales": 1, "operations": result.operations, "before_protection": 0, "pending": 0,
        "anchored": True, "latest_seal_mac": anchor["mac"], "findings": [], "notes": [],
    }  # fmt: skip
    assert result.rows >= 2 and result.chains >= 2 and result.operations >= 1


def test_a_finding_reads_as_before() -> None:
    finding = Finding("changed", "row 3 was changed", chain="M1", seq=2, row_id=3)
    assert as_doc(finding) == finding.as_dict() == {
        "kind": "changed", "message": "row 3 was changed", "chain": "M1", "seq": 2, "row_id": 3,
    }  # fmt: skip


def test_token_log_export_documents_and_their_manifest(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "30")
    plain = logs.export(inst.svc, inst.supervisor, LogFilter(meter=METER), io.StringIO(),
                        fmt="jsonl")  # fmt: skip
    assert as_doc(plain) == {"rows": 1, "digits": True}
    out = io.StringIO()
    auditor = inst.actors["auditor"]
    where = LogFilter(meter=METER)
    made = logs.export(inst.svc, auditor, where, out, fmt="csv", manifest=True)
    data = out.getvalue().encode("utf-8")
    anchor = _newest(inst)
    facts = {
        "rows": 1, "format": "csv", "filter": {"meter": METER},
        "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "anchor": anchor,
        "covered": 1, "made_at": AT, "operator": "auditor", "terminal": "T1",
    }  # fmt: skip
    assert as_doc(made) == {**facts, "digits": False}
    assert as_doc(build_manifest("tokens.csv", made)) == {
        "manifest": 1, "kind": "token-log", "file": "tokens.csv", "format": "csv",
        "bytes": len(data), "sha256": facts["sha256"], "rows": 1, "digits": False,
        "filter": {"meter": METER}, "period": {"since": None, "until": None}, "anchor": anchor,
        "rows_covered_by_anchor": 1, "made_at": AT, "operator": "auditor", "terminal": "T1",
    }  # fmt: skip


def test_operation_log_listing_and_export_documents(inst: Installation) -> None:
    auditor = inst.actors["auditor"]
    logs.verify(inst.svc, inst.supervisor)
    where = OpFilter(actions=("log.verify",))
    listing = operations.list_operations(inst.svc, auditor, where, limit=5)
    [entry] = listing.operations
    assert as_doc(listing) == {
        "filter": {"actions": ["log.verify"]}, "count": 1, "shown": 1,
        "operations": [{
            "id": entry.id, "at": AT, "operator": "supervisor", "terminal": "T1",
            "action": "log.verify", "outcome": "ok", "target": None,
            "detail": {"rows": 0, "findings": 0, "anchor": None},
            "chain": entry.chain, "seq": entry.seq, "mac": entry.mac,
        }],
    }  # fmt: skip
    assert entry.chain == "op:supervisor" and entry.mac is not None and len(entry.mac) == 64
    out = io.StringIO()
    made = operations.export_operations(inst.svc, auditor, where, out, fmt="jsonl")
    data = out.getvalue().encode("utf-8")
    anchor = _newest(inst)
    assert as_doc(made) == {
        "kind": "operation-log", "rows": 1, "format": "jsonl",
        "filter": {"actions": ["log.verify"]}, "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data), "anchor": anchor, "covered": 1, "made_at": AT,
        "operator": "auditor", "terminal": "T1",
    }  # fmt: skip
    manifest = as_doc(build_manifest("ops.jsonl", made))
    assert (manifest["kind"], manifest["digits"], manifest["rows_covered_by_anchor"]) == (
        "operation-log", False, 1,
    )  # fmt: skip


def test_the_reanchor_document(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "30")
    logs.seal(inst.svc, inst.supervisor)
    before = _newest(inst)
    result = logs.reanchor(inst.svc, inst.admin, lost=["ab" * 32])
    after = _newest(inst)
    assert after["seal"] > before["seal"]
    assert as_doc(result) == {"restored_at_seal": before["seal"], "lost": ["ab" * 32],
                              "anchor": after}  # fmt: skip


def test_the_anchor_and_manifest_values_alone() -> None:
    anchor = Anchor(seal=7, mac="cd" * 32, at=AT)
    assert as_doc(anchor) == {"seal": 7, "mac": "cd" * 32, "at": AT}
    made = logs.ManifestedLogExport(
        rows=3, format="jsonl", filter={"since": "2026-03-01T00:00:00+00:00",
                                        "until": "2026-03-02T00:00:00+00:00", "sgc": 123456},
        sha256="ef" * 32, bytes=1200, anchor=anchor, covered=2, made_at=AT, operator="ann",
        terminal="T9", digits=True,
    )  # fmt: skip
    assert as_doc(build_manifest("t.jsonl", made))["period"] == {
        "since": "2026-03-01T00:00:00+00:00", "until": "2026-03-02T00:00:00+00:00",
    }  # fmt: skip
    assert as_doc(build_manifest("t.jsonl", made))["digits"] is True
