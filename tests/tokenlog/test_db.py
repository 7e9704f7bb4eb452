"""The token log in the database: append, seal, verify, and every kind of tampering named at
its exact row; chains of different meters never wait for each other."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from stsvend.services import logs, vend
from stsvend.tokenlog.chain import LogKey
from stsvend.tokenlog.reader import verify_log
from stsvend.tokenlog.writer import last_seal, write_seal
from tests.services.helpers import LOG_KEY, Installation, drn, installation
from tests.store.pgdb import requires_postgres, temporary_database

A, B = drn(1), drn(2)


@pytest.fixture
def busy() -> Iterator[Installation]:
    """Two meters, three sales each, one seal after the first four."""
    with installation() as inst:
        inst.meter(A)
        inst.meter(B)
        for i in range(3):
            for meter in (A, B):
                vend.vend(inst.svc, inst.clerk, meter, "10")
            inst.clock.advance(minutes=1)
            if i == 1:
                with inst.svc.store.transaction() as conn:
                    write_seal(conn, LOG_KEY, inst.clock.now)
        yield inst


def _verify(inst: Installation, key: LogKey = LOG_KEY) -> list[tuple[str, str | None, int | None]]:
    with inst.svc.store.transaction() as conn:
        report = verify_log(conn, key)
    return [(f.kind, f.chain, f.seq) for f in report.findings]


def _sql(inst: Installation, statement: str, **params: object) -> None:
    with inst.svc.store.transaction() as conn:
        conn.execute(text(statement), params)


def _row_id(inst: Installation, chain: str, seq: int) -> int:
    with inst.svc.store.transaction() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM token_log WHERE chain = :c AND seq = :s"),
                {"c": chain, "s": seq},
            ).scalar_one()
        )


def test_an_untouched_log_verifies(busy: Installation) -> None:
    assert _verify(busy) == []
    result = logs.verify(busy.svc, busy.supervisor)
    # Every sale is recorded in its meter's chain too (token rows odd, sale records even here).
    assert (result.ok, result.rows, result.sales) == (True, 12, 6)
    assert result.seals >= 2  # the first vend's automatic seal and the one above


def test_a_wrong_key_fails_everything(busy: Installation) -> None:
    assert len(_verify(busy, LogKey(b"another key, another custody!!!"))) >= 6


def test_a_changed_amount_is_reported_at_its_row(busy: Installation) -> None:
    target = _row_id(busy, A, 3)
    _sql(busy, "UPDATE token_log SET amount = amount + 10 WHERE id = :i", i=target)
    assert _verify(busy) == [("changed", A, 3)]
    report = logs.verify(busy.svc, busy.supervisor)
    assert report.findings[0].row_id == target


def test_a_deleted_middle_row_is_reported(busy: Installation) -> None:
    _sql(busy, "DELETE FROM token_log WHERE chain = :c AND seq = 3", c=B)
    assert ("deleted", B, 3) in _verify(busy)


def test_a_deleted_tail_with_its_head_rewound_is_caught_by_the_seal(busy: Installation) -> None:
    # An administrator deletes A's last two rows and moves the head back: the chain alone is
    # consistent, but seal 2 recorded seq 2 of A.
    with busy.svc.store.transaction() as conn:
        mac = conn.execute(
            text("SELECT mac FROM token_log WHERE chain = :c AND seq = 1"), {"c": A}
        ).scalar_one()
        conn.execute(text("DELETE FROM token_log WHERE chain = :c AND seq >= 2"), {"c": A})
        conn.execute(text("DELETE FROM sale_record WHERE chain = :c AND seq >= 2"), {"c": A})
        conn.execute(
            text("UPDATE log_head SET seq = 1, mac = :m WHERE chain = :c"), {"m": mac, "c": A}
        )
    assert ("deleted", A, 2) in _verify(busy)


def test_a_whole_deleted_chain_is_caught(busy: Installation) -> None:
    _sql(busy, "DELETE FROM token_log WHERE chain = :c", c=B)
    _sql(busy, "DELETE FROM sale_record WHERE chain = :c", c=B)
    _sql(busy, "DELETE FROM log_head WHERE chain = :c", c=B)
    kinds = _verify(busy)
    # The chain's rows are gone; so are the records of its sales, which are still there.
    assert kinds and all(kind in {"deleted", "inserted"} for kind, _, _ in kinds)
    assert any(kind == "deleted" and chain == B for kind, chain, _ in kinds)


def test_an_inserted_row_is_reported(busy: Installation) -> None:
    with busy.svc.store.transaction() as conn:
        row = (
            conn.execute(text("SELECT * FROM token_log WHERE chain = :c AND seq = 5"), {"c": A})
            .mappings()
            .one()
        )
        forged = {k: v for k, v in row.items() if k != "id"}
        forged.update(seq=7, request_id="forged", tid=row["tid"] + 5, prev_mac=row["mac"])
        columns = ", ".join(forged)
        conn.execute(
            text(
                f"INSERT INTO token_log ({columns}) VALUES ({', '.join(':' + k for k in forged)})"
            ),
            forged,
        )
    assert _verify(busy) == [("inserted", A, 7)]


def test_a_deleted_or_changed_seal_is_reported(busy: Installation) -> None:
    _sql(busy, "UPDATE log_seal SET entries = entries + 1 WHERE id = 1")
    with busy.svc.store.transaction() as conn:
        report = verify_log(conn, LOG_KEY)
    assert [f.message for f in report.findings] == ["seal 1 was changed"]
    _sql(busy, "UPDATE log_seal SET entries = entries - 1 WHERE id = 1")
    _sql(busy, "UPDATE log_seal_entry SET seq = seq + 1 WHERE seal_id = 2")
    with busy.svc.store.transaction() as conn:
        messages = [f.message for f in verify_log(conn, LOG_KEY).findings]
    assert "seal 2 was changed" in messages
    _sql(busy, "DELETE FROM log_seal_entry WHERE seal_id = 1")
    _sql(busy, "DELETE FROM log_seal WHERE id = 1")
    with busy.svc.store.transaction() as conn:
        report = verify_log(conn, LOG_KEY)
    assert "seal 1 deleted" in [f.message for f in report.findings]


def test_seals_cover_only_the_heads_that_moved(busy: Installation) -> None:
    with busy.svc.store.transaction() as conn:
        assert write_seal(conn, LOG_KEY, busy.clock.now) is not None
        assert write_seal(conn, LOG_KEY, busy.clock.now) is None  # nothing moved since
    busy.clock.advance(seconds=10)  # within the automatic interval: no automatic seal
    vend.vend(busy.svc, busy.clerk, A, "10")
    with busy.svc.store.transaction() as conn:
        seal = write_seal(conn, LOG_KEY, busy.clock.now)
        assert seal is not None and seal.heads == 1
        assert last_seal(conn) == seal


def test_vends_seal_the_log_at_most_every_interval(busy: Installation) -> None:
    with busy.svc.store.transaction() as conn:
        before = last_seal(conn)
    assert before is not None
    busy.clock.advance(seconds=busy.svc.config.log_seal_seconds + 1)
    vend.vend(busy.svc, busy.clerk, B, "10")
    with busy.svc.store.transaction() as conn:
        after = last_seal(conn)
    assert after is not None and after.seal_id == before.seal_id + 1
    busy.clock.advance(seconds=1)
    vend.vend(busy.svc, busy.clerk, A, "10")
    with busy.svc.store.transaction() as conn:
        assert last_seal(conn) == after
    assert after.at - before.at >= timedelta(seconds=busy.svc.config.log_seal_seconds)


@requires_postgres
@pytest.mark.postgres
def test_on_postgres_two_meters_never_wait_for_each_other() -> None:
    """While one transaction holds meter A (and its chain head) locked, a vend for meter B
    commits at once; a vend for A itself would have to wait."""
    with temporary_database() as url, installation(url, create=False) as inst:
        inst.meter(A)
        inst.meter(B)
        engine = inst.svc.store.engine
        with engine.connect() as holder:
            holder.begin()
            holder.execute(text("SELECT id FROM meter WHERE drn = :d FOR UPDATE"), {"d": A})
            holder.execute(text("SELECT seq FROM log_head WHERE chain = :d FOR UPDATE"), {"d": A})
            vend.vend(inst.svc, inst.clerk, B, "10")  # not blocked
            with engine.connect() as other:
                other.begin()
                other.execute(text("SET lock_timeout = '200ms'"))
                with pytest.raises(Exception, match="lock timeout"):
                    other.execute(text("SELECT id FROM meter WHERE drn = :d FOR UPDATE"), {"d": A})
            holder.rollback()
        assert _verify(inst) == []
