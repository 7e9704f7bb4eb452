"""Notices end to end through the services and real servers: sale → outbox → worker → SMTP and
SMS received; retries, dead letters, opt-outs, contacts, purge; on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsvend.adapters.notify.crm_contacts import HttpContacts
from stsvend.services import grants, keychange, vend
from stsvend.services.notices import outbox, producer
from stsvend.services.notices.contacts import contacts_report
from stsvend.services.notices.outbox import RetryPolicy, claim_due
from tests.notify.helpers import EMAIL, PHONE, all_text, notifier, rows
from tests.notify.servers import crm_service, sms_receiver, smtp_server
from tests.services.helpers import Installation, digits, drn, installation_on

D1 = drn(1)
C1 = f"C-{D1}"


@pytest.fixture(params=["sqlite", "postgresql"])
def inst(request: pytest.FixtureRequest) -> Iterator[Installation]:
    with installation_on(request.param) as made:
        made.meter(D1)
        yield made


def test_sale_to_mail_and_sms_without_storing_the_contact(
    inst: Installation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sale = vend.vend(inst.svc, inst.clerk, D1, "20")
    token = digits(sale.tokens[0])
    with smtp_server() as smtp, sms_receiver() as sms, crm_service() as crm:
        crm.contacts[C1] = {"phone": PHONE, "email": EMAIL, "language": "en"}
        n = notifier(inst, smtp, sms, crm)
        try:
            assert n.run_once() == 4  # two enqueued, two sent
            assert n.run_once() == 0
            inst.clock.advance(minutes=5)
            assert n.run_once() == 0  # the overlap re-scans the sale and adds nothing
        finally:
            n.close()
        (mail,) = smtp.mails
        (post,) = sms.posts
    grouped = producer.grouped(token)
    assert mail["Message-Id"] == f"<stsvend.sale.{sale.receipt}.smtp@power.example>"
    assert mail["To"] == EMAIL and grouped in mail.get_payload()
    assert post["body"]["to"] == PHONE and grouped in post["body"]["text"]
    assert post["headers"]["Idempotency-Key"] == f"stsvend.sale.{sale.receipt}.http-sms"
    assert [r[2] for r in rows(inst)] == ["sent", "sent"]
    stored = all_text(inst)
    # The phone number in any of its written forms (a lone "555" may be inside a hash).
    for form in (PHONE, "555 0199", "5550199", "825550199", "27825550199"):
        assert form not in stored
    assert EMAIL not in stored
    assert "thandi" not in stored
    # Everything logged but the test's own SMTP server (aiosmtpd logs what it is sent).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert f"stsvend.sale.{sale.receipt}.smtp" in logged  # the worker logs what it did …
    assert token[:8] not in logged and grouped[:9] not in logged  # … never the digits
    assert EMAIL not in logged and "0199" not in logged


def test_refusal_retries_with_backoff_then_dead_then_resend(inst: Installation) -> None:
    vend.vend(inst.svc, inst.clerk, D1, "20")
    with smtp_server() as smtp, crm_service() as crm:
        crm.contacts[C1] = {"email": EMAIL}
        smtp.refuse = 550
        n = notifier(inst, smtp, None, crm, max_attempts=3, backoff_seconds=60)
        try:
            n.produce()
            assert n.send().retried == 1
            assert n.send().handled == 0  # not due before the backoff
            inst.clock.advance(seconds=60)
            assert n.send().retried == 1
            inst.clock.advance(seconds=119)
            assert n.send().handled == 0  # the second wait is twice the first
            inst.clock.advance(seconds=1)
            assert n.send().dead == 1
            (dead,) = outbox.dead_letters(inst.svc, inst.admin)
            assert dead.attempts == 3 and "550" in dead.last_error
            assert EMAIL not in dead.last_error
            smtp.refuse = None
            outbox.resend(inst.svc, inst.admin, dead.id)
            assert n.send().sent == 1
        finally:
            n.close()
        assert len(smtp.mails) == 1
    assert outbox.dead_letters(inst.svc, inst.admin) == []


def test_sms_gateway_down_or_slow_is_retried_then_dead(inst: Installation) -> None:
    vend.vend(inst.svc, inst.clerk, D1, "20")
    with sms_receiver() as sms, crm_service() as crm:
        crm.contacts[C1] = {"phone": PHONE}
        sms.status = 503
        n = notifier(inst, None, sms, crm, max_attempts=2, backoff_seconds=10)
        try:
            n.produce()
            assert n.send().retried == 1
            sms.status, sms.delay = 200, 1.5  # answers after the channel's 1 s timeout
            inst.clock.advance(seconds=10)
            assert n.send().dead == 1
        finally:
            n.close()
    (row,) = rows(inst)
    assert row[2:4] == ("dead", 2) and "in time" in row[4]


def test_resend_refuses_what_is_not_dead(inst: Installation) -> None:
    from stsvend.errors import InputError
    from stsvend.store.errors import RecordNotFoundError

    vend.vend(inst.svc, inst.clerk, D1, "20")
    producer.scan(inst.svc, ["file"])
    (notice_id,) = [r[0] for r in rows(inst, "SELECT id FROM notice_outbox")]
    with pytest.raises(InputError, match="not a dead letter"):
        outbox.resend(inst.svc, inst.admin, notice_id)
    with pytest.raises(RecordNotFoundError):
        outbox.resend(inst.svc, inst.admin, 999)


def test_opt_out_is_honoured_at_enqueue_and_at_send(inst: Installation) -> None:
    with smtp_server() as smtp, sms_receiver() as sms, crm_service() as crm:
        crm.contacts[C1] = {"phone": PHONE, "email": EMAIL}
        assert outbox.set_opt_out(inst.svc, inst.admin, C1, "http-sms", opted_out=True)
        assert not outbox.set_opt_out(inst.svc, inst.admin, C1, "http-sms", opted_out=True)
        vend.vend(inst.svc, inst.clerk, D1, "20")
        n = notifier(inst, smtp, sms, crm)
        try:
            n.produce()
            assert [r[0].rsplit(".", 1)[1] for r in rows(inst)] == ["smtp"]
            outbox.set_opt_out(inst.svc, inst.admin, C1, "smtp", opted_out=True)
            assert n.send().skipped == 1  # opted out after it was enqueued
            inst.clock.advance(minutes=11)
            n.produce()  # a scan past the overlap: the first sale is not scanned again
            outbox.set_opt_out(inst.svc, inst.admin, C1, "http-sms", opted_out=False)
            vend.vend(inst.svc, inst.clerk, D1, "20")
            n.produce()
            assert n.send().sent == 1
        finally:
            n.close()
        assert smtp.mails == [] and len(sms.posts) == 1
    assert rows(inst)[0][2:] == ("skipped", 1, "opted out")


def test_opt_out_of_an_unknown_customer(inst: Installation) -> None:
    from stsvend.errors import InputError
    from stsvend.store.errors import RecordNotFoundError

    with pytest.raises(RecordNotFoundError):
        outbox.set_opt_out(inst.svc, inst.admin, "C-nobody", "smtp", opted_out=True)
    for bad in (" ", "sms gateway", "x" * 41):
        with pytest.raises(InputError):
            outbox.set_opt_out(inst.svc, inst.admin, C1, bad, opted_out=True)


def test_bad_contacts_are_skipped_and_reported(inst: Installation) -> None:
    d2, d3 = drn(2), drn(3)
    inst.meter(d2)
    inst.meter(d3)
    for d in (D1, d2, d3):
        vend.vend(inst.svc, inst.clerk, d, "20")
    with sms_receiver() as sms, crm_service() as crm:
        crm.contacts[C1] = {"phone": "12345"}
        crm.contacts[f"C-{d2}"] = {"phone": "+27 82 CALL NOW", "email": "x@@y"}
        n = notifier(inst, None, sms, crm)
        try:
            n.run_once()
            lookup = HttpContacts(crm.url)
            report = contacts_report(inst.svc, inst.admin, lookup)
            lookup.close()
        finally:
            n.close()
        assert sms.posts == []
    reasons = sorted(r[4] for r in rows(inst))
    assert reasons == ["letters in the phone number", "no contact in the CRM",
                       "too few digits in the phone number"]
    by_customer = {line.customer_number: line for line in report}
    assert set(by_customer) == {C1, f"C-{d2}", f"C-{d3}"}
    assert by_customer[f"C-{d2}"].problems == (
        ("phone", "letters in the phone number"), ("email", "malformed e-mail address"))
    assert all(line.paper for line in report)


def test_crm_down_is_retried_not_skipped(inst: Installation) -> None:
    vend.vend(inst.svc, inst.clerk, D1, "20")
    with sms_receiver() as sms, crm_service() as crm:
        crm.status = 500
        n = notifier(inst, None, sms, crm)
        try:
            n.produce()
            assert n.send().retried == 1
        finally:
            n.close()
    assert rows(inst)[0][2] == "pending"


def test_every_kind_of_notice(inst: Installation, tmp_path: Path) -> None:
    from stsvend.adapters.notify.file_channel import FileChannel
    from stsvend.adapters.notify.worker import Notifier

    d2 = drn(2)
    inst.meter(d2, debt="35.00")
    vend.vend(inst.svc, inst.clerk, D1, "20")
    grants.emergency_credit(inst.svc, inst.clerk, d2)
    keychange.key_change_meter(inst.svc, inst.engineer, D1, krn=2)
    assert producer.enqueue_work_order_status(inst.svc, C1, "WO-17", "scheduled",
                                              detail="Tuesday", channels=["file"]) == 1  # fmt: skip
    assert producer.enqueue_work_order_status(inst.svc, C1, "WO-17", "scheduled",
                                              channels=["file"]) == 0  # fmt: skip
    path = tmp_path / "notices.txt"
    n = Notifier(inst.svc, {"file": FileChannel(path)}, None, {"low_credit_days": 30})
    try:
        n.run_once()
        inst.clock.advance(days=31)  # D1's last purchase is now old: a low-credit reminder
        n.run_once()
        n.run_once()  # the daily scan is done for today
    finally:
        n.close()
    kinds = sorted(r[1] for r in rows(inst))
    assert kinds == ["debt", "debt", "emergency_credit", "key_change", "low_credit", "receipt",
                     "work_order"]
    text = path.read_text()
    assert "Arrears on contract K-" in text and "ZAR 35.00" in text
    assert "Work order WO-17: scheduled" in text and "Emergency credit granted" in text
    assert "needs a key change" in text and "may be running low" in text


def test_language_and_template_folder(inst: Installation, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    (folder / "en").mkdir(parents=True)
    (folder / "en" / "receipt.txt").write_text("Subject: Receipt $receipt\n\nTokens:\n$tokens\n")
    d2 = drn(2)
    inst.meter(d2)
    vend.vend(inst.svc, inst.clerk, D1, "20")
    vend.vend(inst.svc, inst.clerk, d2, "20")
    with smtp_server() as smtp, crm_service() as crm:
        crm.contacts[C1] = {"email": EMAIL, "language": "fr-CA"}
        crm.contacts[f"C-{d2}"] = {"email": "other@mail.example", "language": "xx"}
        n = notifier(inst, smtp, None, crm, templates_dir=str(folder))
        try:
            n.run_once()
        finally:
            n.close()
        subjects = sorted(str(m["Subject"]) for m in smtp.mails)
    assert subjects[0].startswith("Receipt ") and subjects[1].startswith("Votre jeton")


def test_a_template_that_cannot_be_filled_is_a_dead_letter(
    inst: Installation, tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    (folder / "en").mkdir(parents=True)
    (folder / "en" / "receipt.txt").write_text("Subject: $nosuchvalue\n\nx\n")
    vend.vend(inst.svc, inst.clerk, D1, "20")
    with smtp_server() as smtp, crm_service() as crm:
        crm.contacts[C1] = {"email": EMAIL}
        n = notifier(inst, smtp, None, crm, templates_dir=str(folder))
        try:
            n.run_once()
        finally:
            n.close()
    assert rows(inst)[0][2:4] == ("dead", 1)


def test_a_sender_that_dies_mid_send_loses_nothing(inst: Installation) -> None:
    vend.vend(inst.svc, inst.clerk, D1, "20")
    policy = RetryPolicy(lease_seconds=300)
    producer.scan(inst.svc, ["smtp"])
    (first,) = claim_due(inst.svc, policy)  # …and the sender dies before settling it
    assert claim_due(inst.svc, policy) == []  # another sender leaves it while the lease runs
    inst.clock.advance(seconds=300)
    (again,) = claim_due(inst.svc, policy)
    assert again.message_id == first.message_id and again.attempts == 2


def test_purge_blanks_old_notices_and_a_rescan_adds_nothing(inst: Installation) -> None:
    sale = vend.vend(inst.svc, inst.clerk, D1, "20")
    token = digits(sale.tokens[0])
    with smtp_server() as smtp, crm_service() as crm:
        crm.contacts[C1] = {"email": EMAIL}
        n = notifier(inst, smtp, None, crm, retention_days=30, low_credit_days=365)
        try:
            n.run_once()
            assert token in all_text(inst)  # the outbox holds the digits until the purge
            assert outbox.purge(inst.svc, inst.admin, 30) == 0
            inst.clock.advance(days=31)
            n.run_once()  # the worker's daily purge
        finally:
            n.close()
    assert rows(inst)[0][2] == "purged"
    with inst.svc.store.transaction() as conn:
        stored = [str(r[0]) for r in conn.exec_driver_sql("SELECT params FROM notice_outbox")]
    assert token not in "".join(stored)
    with inst.svc.store.transaction() as conn:
        conn.exec_driver_sql("DELETE FROM notice_watermark")  # a scan from the start
    producer.scan(inst.svc, ["smtp"], low_credit_days=365)
    assert len(rows(inst)) == 1
