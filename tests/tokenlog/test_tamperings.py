"""Every tampering of docs/token-log.md's table, done with SQL on a real store (SQLite and
PostgreSQL), then verified through the service: each is reported (``always``), reported given
the auditor's anchor (``anchor``), or is the documented limit (``never``).

The scene is built once per database kind and each test tampers with a copy of it
(tests/services/saved.py)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.services import logs
from tests.services.helpers import Installation
from tests.services.saved import BACKENDS, Saved, saved
from tests.tokenlog.tamperings import TAMPERINGS, Scene, Tampering, build_scene

DOC = Path(__file__).resolve().parents[2] / "docs" / "token-log.md"


def _table_ids() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    body = text.split("<!-- tamperings:start -->")[1].split("<!-- tamperings:end -->")[0]
    return re.findall(r"^\| `([a-z-]+)` \|", body, flags=re.MULTILINE)


def _table_detection() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    body = text.split("<!-- tamperings:start -->")[1].split("<!-- tamperings:end -->")[0]
    out = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0].startswith("`"):
            out[cells[0].strip("`")] = cells[-2]
    return out


def test_the_docs_table_lists_exactly_the_tested_tamperings() -> None:
    assert _table_ids() == [t.id for t in TAMPERINGS]
    words = {"always": "yes", "anchor": "with an anchor", "never": "no"}
    assert _table_detection() == {t.id: words[t.detected] for t in TAMPERINGS}
    assert len([t for t in TAMPERINGS if t.detected != "never"]) >= 27


@pytest.fixture(scope="session", params=BACKENDS)
def saved_scene(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Saved[Scene]]:
    with saved(request, tmp_path_factory, build_scene) as it:
        yield it


@pytest.fixture
def scene(saved_scene: Saved[Scene], tmp_path: Path) -> Iterator[Scene]:
    built = saved_scene.built
    with saved_scene.copy(tmp_path) as (_, inst):
        yield Scene(inst, built.anchor, copy.deepcopy(built.backup))


def _verify(inst: Installation, anchor: bytes | None = None) -> logs.VerifyResult:
    return logs.verify(inst.svc, inst.supervisor, anchor=None if anchor is None else anchor.hex())


def test_the_untouched_scene_verifies_with_and_without_its_anchor(scene: Scene) -> None:
    plain = _verify(scene.inst)
    assert plain.ok is True and plain.findings == ()
    assert plain.sales == 8 and plain.operations > 10 and plain.pending == 0
    anchored = _verify(scene.inst, scene.anchor)
    assert anchored.ok is True and anchored.notes == ()


@pytest.mark.parametrize("tampering", TAMPERINGS, ids=[t.id for t in TAMPERINGS])
def test_each_tampering_is_detected_as_documented(scene: Scene, tampering: Tampering) -> None:
    if tampering.first is not None:
        tampering.first(scene)
    with scene.inst.svc.store.transaction() as conn:
        tampering.run(scene, conn)
    plain = _verify(scene.inst)
    anchored = _verify(scene.inst, scene.anchor)
    if tampering.detected == "always":
        assert plain.ok is False, plain
        assert anchored.ok is False
    elif tampering.detected == "anchor":
        assert plain.ok is True, plain
        assert anchored.ok is False
        assert [f.kind for f in anchored.findings] == ["anchor"]
    else:
        assert plain.ok is True and anchored.ok is True


def test_an_insertion_in_the_middle_is_one_finding(scene: Scene) -> None:
    tampering = next(t for t in TAMPERINGS if t.id == "insert-middle-and-renumber")
    with scene.inst.svc.store.transaction() as conn:
        tampering.run(scene, conn)
    findings = _verify(scene.inst).findings
    assert [f.kind for f in findings] == ["inserted"]


def test_an_exact_copy_of_a_row_is_one_insertion(scene: Scene) -> None:
    tampering = next(t for t in TAMPERINGS if t.id == "duplicate-token-row")
    with scene.inst.svc.store.transaction() as conn:
        tampering.run(scene, conn)
    findings = _verify(scene.inst).findings
    assert [f.kind for f in findings] == ["inserted"]
    assert "exact copy" in findings[0].message
