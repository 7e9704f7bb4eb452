"""Stored answers on SQLite and PostgreSQL: a sale's answer is stored as version 2, and an
answer stored by the code before (version 1, no version field) still replays and reprints
exactly as it was first issued."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import select, update

from stsvend.services import receipts, vend
from stsvend.services.receipt_codec import StoredAnswerError, decode
from stsvend.services.results import as_doc
from stsvend.store.models import Sale
from stsvend_cli.receipt import receipt_lines
from tests.services.helpers import Installation, drn, installation
from tests.store.pgdb import temporary_database

METER = drn(1)
ANSWERS = Path(__file__).resolve().parent.parent / "kat" / "answers"


@pytest.fixture(params=["sqlite", "postgresql"])
def inst(request: pytest.FixtureRequest) -> Iterator[Installation]:
    if request.param == "sqlite":
        with installation() as it:
            yield it
        return
    if not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
        pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
    with temporary_database() as url, installation(url, create=False) as it:
        yield it


def _stored(inst: Installation, sale: int) -> Any:
    with inst.svc.store.transaction() as conn:
        return conn.execute(select(Sale.result).where(Sale.id == sale)).scalar_one()


def _store(inst: Installation, sale: int, result: Any) -> None:
    with inst.svc.store.transaction() as conn:
        conn.execute(update(Sale).where(Sale.id == sale).values(result=result))


def _renumbered(lines: list[str], old: int, new: int) -> list[str]:
    return [line.replace(f"Receipt {old}", f"Receipt {new}") for line in lines]


def test_a_sale_is_stored_as_version_2_without_its_number(inst: Installation) -> None:
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "100", request_id="R1")
    stored = _stored(inst, sale.number)
    assert stored["version"] == 2 and "receipt" not in stored and "replayed" not in stored
    assert decode(stored) == attrs.evolve(sale, receipt=None, replayed=None)
    assert {k: v for k, v in stored.items() if k != "version"} == {
        k: v for k, v in as_doc(sale).items() if k not in ("receipt", "replayed")
    }


def test_a_version_1_answer_replays_and_reprints_as_first_issued(inst: Installation) -> None:
    # The session of tests/kat/answers/reprint.json, recorded by the code that stored answers
    # without a version: a sale (receipt 3) and its reprint, each with its printed receipt.
    sold, copied = json.loads((ANSWERS / "reprint.json").read_text(encoding="utf-8"))
    number = sold["json"]["receipt"]
    version_1 = {k: v for k, v in sold["json"].items() if k not in ("receipt", "replayed")}
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "100", request_id="R1")
    _store(inst, sale.number, version_1)

    again = vend.vend(inst.svc, inst.clerk, METER, "100", request_id="R1")
    assert as_doc(again) == {**version_1, "receipt": sale.number, "replayed": True}
    first = _renumbered(sold["receipt"], number, sale.number)
    note = "(repeated request: the receipt as first issued; nothing was issued again)"
    assert receipt_lines(again) == [*first[:-1], note, first[-1]]  # the TEST mark stays last

    copy = receipts.reprint(inst.svc, inst.clerk, sale.number)
    assert as_doc(copy) == {**copied["json"], "receipt": sale.number}
    assert receipt_lines(copy) == _renumbered(copied["receipt"], number, sale.number)
    assert inst.count("sale") == 1 and inst.count("token_log") == 1


def test_an_answer_of_an_unknown_version_is_refused_not_replayed(inst: Installation) -> None:
    inst.meter(METER)
    sale = vend.vend(inst.svc, inst.clerk, METER, "100", request_id="R1")
    _store(inst, sale.number, {**_stored(inst, sale.number), "version": 3})
    with pytest.raises(StoredAnswerError, match="version 3"):
        vend.vend(inst.svc, inst.clerk, METER, "100", request_id="R1")
    with pytest.raises(StoredAnswerError, match="version 3"):
        receipts.reprint(inst.svc, inst.clerk, sale.number)
    assert inst.count("sale") == 1 and inst.count("token_log") == 1
