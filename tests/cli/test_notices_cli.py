"""``stsvend notices`` end to end, on SQLite and PostgreSQL, against a real SMTP server, SMS
receiver and CRM contact service started by the test; and a sender killed mid-send."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from tests.cli.conftest import STSVEND, Cli
from tests.notify.servers import (
    CrmService,
    SmsReceiver,
    SmtpServer,
    crm_service,
    sms_receiver,
    smtp_server,
)

PHONE, EMAIL = "+27 82 555 0142", "c1.person@mail.example"


@dataclass
class Servers:
    smtp: SmtpServer
    sms: SmsReceiver
    crm: CrmService


@contextmanager
def servers(cli: Cli, channels: str = '["smtp", "http-sms"]', **worker: int) -> Iterator[Servers]:
    """The three servers, and the installation's configuration naming them."""
    with ExitStack() as stack:
        made = Servers(stack.enter_context(smtp_server()), stack.enter_context(sms_receiver()),
                       stack.enter_context(crm_service()))  # fmt: skip
        made.crm.contacts["C-1"] = {"phone": PHONE, "email": EMAIL, "language": "en"}
        made.crm.contacts["C-2"] = {"phone": "0800 CALL ME", "email": "c2@@mail"}
        made.crm.contacts["C-3"] = {"phone": "12345"}
        settings = {"max_attempts": 2, "backoff_seconds": 0, "lease_seconds": 2, **worker}
        lines = ["[adapters.worker.notify]", f"channels = {channels}", 'contacts = "http"',
                 *(f"{k} = {v}" for k, v in settings.items()),
                 "[adapters.notify.smtp]", 'host = "127.0.0.1"', f"port = {made.smtp.port}",
                 'sender = "City Power <notices@power.example>"', "timeout = 5",
                 '[adapters.notify."http-sms"]', f'url = "{made.sms.url}"', "timeout = 1",
                 "[adapters.contacts.http]", f'base_url = "{made.crm.url}"',
                 "timeout = 2"]  # fmt: skip
        (cli.data_dir / "config.toml").write_text("\n".join(lines) + "\n")
        yield made


def test_send_once_delivers_the_receipt_and_stores_no_contact(cli: Cli) -> None:
    with servers(cli) as s:
        done = cli.json("notices", "send", "--once")
        again = cli.json("notices", "send", "--once")
        mails, posts = list(s.smtp.mails), list(s.sms.posts)
    # Receipt 1 (C-1): mail and SMS.  C-2, C-3 have no sale; C-4 none either.
    assert done == {"enqueued": 2, "sent": 2, "retried": 0, "dead": 0, "skipped": 0}
    assert again["enqueued"] == 0 and again["sent"] == 0
    (mail,) = mails
    (post,) = posts
    assert mail["Message-Id"] == "<stsvend.sale.1.smtp@power.example>" and mail["To"] == EMAIL
    assert post["headers"]["Idempotency-Key"] == "stsvend.sale.1.http-sms"
    tokens = cli.sql("SELECT result FROM sale WHERE id = 1")[0][0]
    doc = tokens if isinstance(tokens, dict) else json.loads(tokens)
    first = doc["tokens"][0]["digits"]
    assert first[:4] + " " + first[4:8] in str(mail.get_payload())
    dump = json.dumps([cli.sql(f'SELECT * FROM "{t}"') for t in
                       ("notice_outbox", "notice_opt_out", "notice_watermark", "customer",
                        "account", "operation_log")], default=str)  # fmt: skip
    assert "555 0142" not in dump and EMAIL not in dump and "c1.person" not in dump


def test_refusal_becomes_a_dead_letter_that_an_operator_resends(cli: Cli) -> None:
    with servers(cli, channels='["smtp"]') as s:
        s.smtp.refuse = 554
        done = cli.json("notices", "send", "--once")
        assert done["dead"] == 1 and done["retried"] == 1
        (dead,) = cli.json("notices", "dead")["dead"]
        assert dead["attempts"] == 2 and "554" in dead["last_error"]
        assert dead["customer"] == "C-1" and dead["kind"] == "receipt"
        table = cli.ok("notices", "dead")
        assert "C-1" in table and "554" in table
        s.smtp.refuse = None
        assert cli.json("notices", "resend", str(dead["id"]))["state"] == "pending"
        assert cli.json("notices", "send", "--once")["sent"] == 1
        assert len(s.smtp.mails) == 1
    assert cli.json("notices", "dead") == {"dead": []}
    (entry,) = cli.operations("notices.resend")
    assert entry[0] == "admin"


def test_resend_errors(cli: Cli) -> None:
    for arg, code in (("999", 5), ("x", 3), ("0", 3)):
        out = cli.run("notices", "resend", arg)
        assert out.returncode == code, (arg, out)
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_opt_out_and_in(cli: Cli) -> None:
    with servers(cli) as s:
        out = cli.json("notices", "opt-out", "C-1", "--channel", "SMTP")
        assert out == {"customer": "C-1", "channel": "smtp", "opted_out": True, "changed": True}
        assert "as before" in cli.ok("notices", "opt-out", "C-1", "--channel", "smtp")
        cli.json("notices", "send", "--once")
        assert s.smtp.mails == [] and len(s.sms.posts) == 1
        assert cli.json("notices", "opt-in", "C-1", "--channel", "smtp")["changed"] is True
    unknown = cli.run("notices", "opt-out", "C-404", "--channel", "smtp")
    assert unknown.returncode != 0 and "C-404" not in unknown.stderr
    clerk = cli.run("notices", "opt-out", "C-1", "--channel", "smtp", role="clerk")
    assert clerk.returncode != 0 and "may not" in clerk.stderr


def test_contacts_report(cli: Cli) -> None:
    with servers(cli) as s:
        report = cli.json("notices", "contacts-report")["customers"]
        text = cli.ok("notices", "contacts-report")
        assert set(s.crm.asked) >= {"C-1", "C-2", "C-3", "C-4"}
    by = {r["customer"]: r for r in report}
    assert set(by) == {"C-2", "C-3", "C-4"}
    assert by["C-2"]["problems"] == [{"address": "email", "problem": "malformed e-mail address"},
                                     {"address": "phone", "problem": "letters in the phone number"}]
    assert by["C-3"]["problems"] == [{"address": "email", "problem": "no e-mail address"},
                                     {"address": "phone",
                                      "problem": "too few digits in the phone number"}]
    assert by["C-4"]["paper"] is True
    assert "0800" not in text and "12345" not in text and "C-3" in text


def test_contacts_report_when_the_crm_fails(cli: Cli) -> None:
    with servers(cli) as s:
        s.crm.status = 503
        out = cli.run("notices", "contacts-report")
    assert out.returncode == 8 and "HTTP 503" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_contacts_report_needs_a_lookup(cli: Cli) -> None:
    (cli.data_dir / "config.toml").write_text('[adapters.worker.notify]\nchannels = ["file"]\n')
    out = cli.run("notices", "contacts-report")
    assert out.returncode != 0 and "no contact lookup" in out.stderr


def test_send_with_a_channel_not_configured(cli: Cli) -> None:
    (cli.data_dir / "config.toml").write_text('[adapters.worker.notify]\nchannels = ["smtp"]\n')
    out = cli.run("notices", "send", "--once")
    assert out.returncode != 0 and "[adapters.notify.smtp]" in out.stderr


def test_file_channel_by_default_and_purge(cli: Cli) -> None:
    path = cli.data_dir / "notices.txt"
    (cli.data_dir / "config.toml").write_text(f'[adapters.notify.file]\npath = "{path}"\n')
    assert cli.json("notices", "send", "--once")["sent"] == 1
    assert "--- stsvend.sale.1.file to customer C-1" in path.read_text()
    assert cli.json("notices", "purge", "--older-than", "0") == {"purged": 1,
                                                                 "older_than_days": 0}
    assert cli.sql("SELECT state FROM notice_outbox") == [("purged",)]
    assert "purged 0 notices" in cli.ok("notices", "purge", "--older-than", "30")
    bad = cli.run("notices", "purge", "--older-than", "-1")
    assert bad.returncode == 3 and len(bad.stderr.strip().splitlines()) == 1


def test_a_sender_killed_mid_send_loses_nothing(cli: Cli) -> None:
    with servers(cli, channels='["smtp"]', lease_seconds=1) as s:
        s.smtp.hold = True
        proc = subprocess.Popen([*STSVEND, "notices", "send", "--once"], env=cli.base_env("admin"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)  # fmt: skip
        try:
            assert s.smtp.data_seen.wait(60), "the sender never reached the SMTP server"
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout and proc.stdout.close()
            proc.stderr and proc.stderr.close()
        assert cli.sql("SELECT state, attempts FROM notice_outbox") == [("pending", 1)]
        s.smtp.hold = False
        s.smtp.release.set()
        time.sleep(1.2)  # the dead sender's lease runs out
        assert cli.json("notices", "send", "--once")["sent"] == 1
        ids = {m["Message-Id"] for m in s.smtp.mails}
    assert cli.sql("SELECT state, attempts FROM notice_outbox") == [("sent", 2)]
    # The server may have taken the first copy before the sender died: a repeat with the same
    # Message-Id (the crash window), never a loss.
    assert ids == {"<stsvend.sale.1.smtp@power.example>"}
