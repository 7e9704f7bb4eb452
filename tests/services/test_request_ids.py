"""A request id names one request: a repeat with the same content is a replay, the same id with
different content is refused (IdempotencyMismatch) and issues nothing; answers stored before
digests were kept replay as before when the operation and the meter match."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stsvend.errors import IdempotencyMismatch, InputError
from stsvend.services import auth, engineering, keychange, receipts, vend
from stsvend.store.repos.oplog import list_operations
from tests.services.helpers import Installation, drn

METER, OTHER = drn(1), drn(2)


def _counts(inst: Installation) -> tuple[int, ...]:
    return tuple(
        inst.count(t) for t in ("sale", "ledger_entry", "token_log", "key_change", "meter_tid")
    )


def _refused(inst: Installation, call: Callable[[], Any]) -> IdempotencyMismatch:
    before = _counts(inst)
    with pytest.raises(IdempotencyMismatch) as info:
        call()
    assert _counts(inst) == before, "a refused request wrote something"
    assert info.value.code == "idempotency_mismatch"
    assert "use a new request id" in info.value.message
    return info.value


def test_a_vend_with_another_amount_under_the_same_id_is_refused(inst: Installation) -> None:
    inst.meter(METER)
    first = vend.vend(inst.svc, inst.clerk, METER, "50.00", request_id="X")
    error = _refused(inst, lambda: vend.vend(inst.svc, inst.clerk, METER, "60.00", request_id="X"))
    assert f"receipt {first.receipt}" in error.message and "'X'" in error.message
    # The same content is still a replay, however the amount is typed.
    again = vend.vend(inst.svc, inst.clerk, METER, "50", request_id="X")
    assert again.replayed is True and again.tokens == first.tokens


def test_a_vend_to_another_meter_under_the_same_id_is_refused(inst: Installation) -> None:
    inst.meter(METER)
    inst.meter(OTHER)
    vend.vend(inst.svc, inst.clerk, METER, "50", request_id="X")
    _refused(inst, lambda: vend.vend(inst.svc, inst.clerk, OTHER, "50", request_id="X"))


def test_another_operator_cannot_replay_a_clerks_request(inst: Installation) -> None:
    # Otherwise anyone who learns a request id collects its token digits as a "replay".
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "50", request_id="X")
    _refused(inst, lambda: vend.vend(inst.svc, inst.supervisor, METER, "50", request_id="X"))


def test_another_operation_under_the_same_id_is_refused(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "50", request_id="X")
    _refused(inst, lambda: vend.emergency_credit(inst.svc, inst.clerk, METER, request_id="X"))
    _refused(inst, lambda: vend.free_issue(inst.svc, inst.supervisor, METER, 10, "meter fault",
                                           request_id="X"))  # fmt: skip
    _refused(inst, lambda: engineering.issue_test_token(inst.svc, inst.clerk, 1, request_id="X"))
    _refused(inst, lambda: receipts.reverse(inst.svc, inst.supervisor, 1, "paid twice",
                                            request_id="X"))  # fmt: skip


def test_free_issue_units_and_reason_are_part_of_the_request(inst: Installation) -> None:
    inst.meter(METER)
    sup = inst.supervisor
    first = vend.free_issue(inst.svc, sup, METER, 10, "meter fault WO-1", request_id="F")
    _refused(inst, lambda: vend.free_issue(inst.svc, sup, METER, 20, "meter fault WO-1",
                                           request_id="F"))  # fmt: skip
    _refused(inst, lambda: vend.free_issue(inst.svc, sup, METER, 10, "meter fault WO-2",
                                           request_id="F"))  # fmt: skip
    again = vend.free_issue(inst.svc, sup, METER, 10, "  meter   fault WO-1 ", request_id="F")
    assert again.replayed is True and again.receipt == first.receipt


def test_a_reversal_under_the_same_id_must_name_the_same_receipt_and_reason(
    inst: Installation,
) -> None:
    inst.meter(METER)
    inst.meter(OTHER)
    a = vend.vend(inst.svc, inst.clerk, METER, "50")
    b = vend.vend(inst.svc, inst.clerk, OTHER, "50")
    first = receipts.reverse(inst.svc, inst.supervisor, a.number, "paid twice", request_id="R")
    _refused(inst, lambda: receipts.reverse(inst.svc, inst.supervisor, b.number, "paid twice",
                                            request_id="R"))  # fmt: skip
    _refused(inst, lambda: receipts.reverse(inst.svc, inst.supervisor, a.number,
                                            "another reason", request_id="R"))  # fmt: skip
    again = receipts.reverse(inst.svc, inst.supervisor, a.number, "paid twice",
                             request_id="R")  # fmt: skip
    assert again.replayed is True and again.receipt == first.receipt


def test_engineering_test_and_key_change_requests_are_compared_in_full(
    inst: Installation,
) -> None:
    inst.meter(METER)
    eng = inst.engineer
    engineering.engineering_token(inst.svc, eng, METER, "clear-tamper", work_order="WO-1",
                                  request_id="E")  # fmt: skip
    _refused(inst, lambda: engineering.engineering_token(
        inst.svc, eng, METER, "clear-tamper", work_order="WO-2", request_id="E"))  # fmt: skip
    engineering.issue_test_token(inst.svc, eng, 1, request_id="T")
    _refused(inst, lambda: engineering.issue_test_token(inst.svc, eng, 2, request_id="T"))
    _refused(inst, lambda: engineering.issue_test_token(inst.svc, eng, 1, drn=METER,
                                                        request_id="T"))  # fmt: skip
    assert engineering.issue_test_token(inst.svc, eng, 1, request_id="T").replayed is True
    keychange.key_change_meter(inst.svc, eng, METER, krn=2, request_id="K")
    _refused(inst, lambda: keychange.key_change_meter(inst.svc, eng, METER, krn=3,
                                                      request_id="K"))  # fmt: skip
    _refused(inst, lambda: keychange.key_change_meter(inst.svc, eng, METER, krn=2, issue=True,
                                                      request_id="K"))  # fmt: skip
    assert keychange.key_change_meter(inst.svc, eng, METER, krn=2, request_id="K").replayed


def test_replays_and_refusals_are_in_the_operation_log(inst: Installation) -> None:
    inst.meter(METER)
    first = vend.vend(inst.svc, inst.clerk, METER, "50", request_id="X")
    vend.vend(inst.svc, inst.clerk, METER, "50", request_id="X")
    with pytest.raises(IdempotencyMismatch):
        vend.vend(inst.svc, inst.clerk, METER, "60", request_id="X")
    with inst.svc.store.transaction() as conn:
        ops = [o for o in list_operations(conn) if o["operator"] == "clerk"]
    assert [(o["action"], o["outcome"], o["target"]) for o in ops[-2:]] == [
        ("replay", "ok", str(first.receipt)),
        ("credit", "refused", "X"),
    ]
    assert "different request" in ops[-1]["detail"]["reason"]


def test_an_answer_stored_without_a_digest_replays_when_kind_and_meter_match(
    inst: Installation,
) -> None:
    # Rows from before the digest was kept (schema revision 0004) have none.
    inst.meter(METER)
    first = vend.vend(inst.svc, inst.clerk, METER, "50", request_id="OLD")
    with inst.svc.store.transaction() as conn:
        conn.exec_driver_sql("UPDATE sale SET request_digest = NULL")
    again = vend.vend(inst.svc, inst.clerk, METER, "60", request_id="OLD")
    assert again.replayed is True and again.receipt == first.receipt
    _refused(inst, lambda: vend.emergency_credit(inst.svc, inst.clerk, METER, request_id="OLD"))
    inst.meter(OTHER)
    _refused(inst, lambda: vend.vend(inst.svc, inst.clerk, OTHER, "50", request_id="OLD"))


def test_new_answers_store_their_digest(inst: Installation) -> None:
    inst.meter(METER)
    vend.vend(inst.svc, inst.clerk, METER, "50", request_id="D1")
    vend.emergency_credit(inst.svc, inst.clerk, METER, request_id="D2")
    engineering.issue_test_token(inst.svc, inst.clerk, 1, request_id="D3")
    with inst.svc.store.transaction() as conn:
        digests = conn.exec_driver_sql("SELECT request_id, request_digest FROM sale").all()
    assert {r for r, _ in digests} == {"D1", "D2", "D3"}
    assert all(d is not None and len(d) == 64 for _, d in digests)
    assert len({d for _, d in digests}) == 3


@pytest.mark.parametrize("bad", ["", " ", "a b", "x" * 65, "é", "tab\there", "new\nline"])
def test_a_malformed_request_id_is_refused_before_anything_is_written(
    inst: Installation, bad: str
) -> None:
    inst.meter(METER)
    before = _counts(inst)
    with pytest.raises(InputError, match="request id is 1-64 printable ASCII"):
        vend.vend(inst.svc, inst.clerk, METER, "50", request_id=bad)
    assert _counts(inst) == before


def test_the_longest_request_id_is_stored(inst: Installation) -> None:
    inst.meter(METER)
    rid = "~" + "x" * 62 + "!"
    first = vend.vend(inst.svc, inst.clerk, METER, "50", request_id=rid)
    assert vend.vend(inst.svc, inst.clerk, METER, "50", request_id=rid).receipt == (first.receipt)


def test_a_second_login_of_the_same_operator_replays(inst: Installation) -> None:
    # A retry comes from a new process: the same operator at the same terminal replays.
    from tests.services.helpers import PINS

    inst.meter(METER)
    first = vend.vend(inst.svc, inst.clerk, METER, "50", request_id="X")
    again_actor = auth.login(inst.svc, "clerk", PINS["clerk"])
    again = vend.vend(inst.svc, again_actor, METER, "50", request_id="X")
    assert again.replayed is True and again.receipt == first.receipt


def test_a_group_key_change_job_under_the_same_id_must_ask_for_the_same_change(
    inst: Installation,
) -> None:
    inst.meter(METER)
    eng = inst.engineer
    job = keychange.start_job(inst.svc, eng, 123456, krn=2, request_id="J")
    for kwargs in (
        {"sgc": 123456, "krn": 3},
        {"sgc": 654321, "krn": 2},
        {"sgc": 123456, "krn": 2, "rollover": True},
        {"sgc": 123456, "ken": 200},
    ):
        with pytest.raises(IdempotencyMismatch, match=f"job {job.job}"):
            keychange.start_job(inst.svc, eng, request_id="J", **kwargs)  # type: ignore[arg-type]
    assert keychange.start_job(inst.svc, eng, 123456, krn=2, request_id="J").job == job.job
