"""The sealer builds only on what it authenticates; pending operation-log entries and the
protection boundary are taken under the log key by the next seal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from stsvend.services import logs, shifts, vend
from stsvend.services.context import Services
from stsvend.store.uow import Store
from stsvend.tokenlog.oplog import read_boundary
from stsvend.tokenlog.writer import SealRefused, last_seal, write_seal
from tests.services.helpers import LOG_KEY, Installation, config, drn, installation

A = drn(1)


@pytest.fixture
def inst(tmp_path: Path) -> Iterator[Installation]:
    with installation(f"sqlite:///{tmp_path / 'stsvend.db'}", create=False) as inst:
        inst.meter(A)
        vend.vend(inst.svc, inst.clerk, A, "10")
        yield inst


def _sql(inst: Installation, sql: str) -> None:
    with inst.svc.store.transaction() as conn:
        conn.execute(text(sql))


def _sealed_chains(inst: Installation, seal_id: int) -> set[str]:
    with inst.svc.store.transaction() as conn:
        rows = conn.execute(text("SELECT chain FROM log_seal_entry WHERE seal_id = :s"),
                            {"s": seal_id})  # fmt: skip
        return {r.chain for r in rows}


def test_a_raised_sealer_index_does_not_stop_sealing(inst: Installation) -> None:
    with inst.svc.store.transaction() as conn:
        write_seal(conn, LOG_KEY, inst.clock.now)
    _sql(inst, "UPDATE log_sealed_head SET seq = seq + 1000")
    inst.clock.advance(seconds=1)
    vend.vend(inst.svc, inst.clerk, A, "10")
    with inst.svc.store.transaction() as conn:
        seal = write_seal(conn, LOG_KEY, inst.clock.now)
    assert seal is not None and A in _sealed_chains(inst, seal.seal_id)


def test_a_sealer_index_set_to_the_current_head_without_a_seal_entry_is_ignored(
    inst: Installation,
) -> None:
    inst.clock.advance(seconds=1)
    vend.vend(inst.svc, inst.clerk, A, "10")
    _sql(inst, "UPDATE log_sealed_head SET seq = (SELECT seq FROM log_head "
               "WHERE log_head.chain = log_sealed_head.chain)")  # fmt: skip
    with inst.svc.store.transaction() as conn:
        seal = write_seal(conn, LOG_KEY, inst.clock.now)
    assert seal is not None and A in _sealed_chains(inst, seal.seal_id)


def test_the_sealer_refuses_to_build_on_a_seal_that_does_not_verify(inst: Installation) -> None:
    _sql(inst, "UPDATE log_seal SET at = '2020-01-01 00:00:00' WHERE id = (SELECT max(id) "
               "FROM log_seal)")  # fmt: skip
    inst.clock.advance(seconds=1)
    vend.vend(inst.svc, inst.clerk, A, "10")
    with pytest.raises(SealRefused, match="does not verify"):
        logs.seal(inst.svc, inst.supervisor)
    # A vend still goes through (its automatic seal is skipped), and verify names the seal.
    inst.clock.advance(seconds=inst.svc.config.log_seal_seconds + 1)
    assert vend.vend(inst.svc, inst.clerk, A, "10").replayed is False
    findings = logs.verify(inst.svc, inst.supervisor).findings
    assert any(f.kind == "seal" for f in findings)


def test_entries_written_without_the_log_key_are_chained_by_the_next_seal(
    inst: Installation,
) -> None:
    keyless = Services(Store.open(str(inst.svc.store.engine.url)), config(), clock=inst.clock)
    try:
        shifts.end_shift(keyless, inst.clerk)
    finally:
        keyless.store.dispose()
    before = logs.verify(inst.svc, inst.supervisor)
    assert before.ok is True and before.pending == 1
    inst.clock.advance(seconds=1)
    logs.seal(inst.svc, inst.supervisor)
    after = logs.verify(inst.svc, inst.supervisor)
    assert after.ok is True and after.pending == 0
    _sql(inst, "UPDATE operation_log SET outcome = 'refused' WHERE action = 'shift.end'")
    assert logs.verify(inst.svc, inst.supervisor).ok is False


def test_the_migration_boundary_is_authenticated_by_the_first_seal(inst: Installation) -> None:
    with inst.svc.store.transaction() as conn:
        boundary = read_boundary(conn)
        assert boundary is not None and boundary.mac is not None
        assert (boundary.sale, boundary.operation) == (0, 0)
        assert last_seal(conn) is not None
