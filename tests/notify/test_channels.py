"""The channels and the CRM lookup against real local servers: what they send, how they fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stsvend.adapters.notify import crm_contacts, file_channel, sms_channel, smtp_channel
from stsvend.adapters.registry import AdapterError, load
from stsvend.services.notices.model import Contact, ContactLookupError, DeliveryError, Outgoing
from tests.notify.servers import crm_service, sms_receiver, smtp_server

MSG = Outgoing("stsvend.sale.7.x", "C-1", "", "Your token", "Credit: 1234 5678\n")


def test_entry_points_name_the_adapters() -> None:
    assert load("notify", "file") is file_channel.factory
    assert load("notify", "smtp") is smtp_channel.factory
    assert load("notify", "http-sms") is sms_channel.factory
    assert load("contacts", "http") is crm_contacts.factory


def test_file_channel_appends_blocks(tmp_path: Path) -> None:
    path = tmp_path / "notices.txt"
    channel = file_channel.factory({"path": str(path)})
    channel.send(MSG)
    channel.send(MSG)
    text = path.read_text()
    assert text.count("--- stsvend.sale.7.x to customer C-1") == 2
    assert os.stat(path).st_mode & 0o077 == 0


def test_file_channel_unwritable(tmp_path: Path) -> None:
    channel = file_channel.factory({"path": str(tmp_path / "no" / "such" / "dir.txt")})
    with pytest.raises(DeliveryError, match="cannot append"):
        channel.send(MSG)


def test_file_channel_prints_without_path(capsys: pytest.CaptureFixture[str]) -> None:
    file_channel.factory({}).send(MSG)
    assert "Subject: Your token" in capsys.readouterr().out


def test_smtp_sends_with_the_stable_message_id() -> None:
    with smtp_server() as server:
        channel = smtp_channel.factory({"host": "127.0.0.1", "port": server.port,
                                        "sender": "Power <notices@power.example>"})  # fmt: skip
        channel.send(Outgoing("stsvend.sale.7.smtp", "C-1", "c1@example.org", "Token", "Body\n"))
        channel.close()
        (mail,) = server.mails
    assert mail["Message-Id"] == "<stsvend.sale.7.smtp@power.example>"
    assert mail["To"] == "c1@example.org" and mail["Subject"] == "Token"


@pytest.mark.parametrize("code", [550, 451])
def test_smtp_refusal_fails_the_attempt_without_naming_the_recipient(code: int) -> None:
    with smtp_server() as server:
        server.refuse = code
        channel = smtp_channel.factory({"host": "127.0.0.1", "port": server.port,
                                        "sender": "notices@power.example"})  # fmt: skip
        with pytest.raises(DeliveryError) as caught:
            channel.send(Outgoing("m", "C-1", "secret@example.org", "S", "B\n"))
    assert str(code) in caught.value.message and "secret" not in caught.value.message
    assert not caught.value.permanent


def test_smtp_unreachable() -> None:
    with smtp_server() as server:
        port = server.port
    channel = smtp_channel.factory({"host": "127.0.0.1", "port": port, "timeout": 2,
                                    "sender": "notices@power.example"})  # fmt: skip
    with pytest.raises(DeliveryError, match="SMTP"):
        channel.send(Outgoing("m", "C-1", "c@example.org", "S", "B\n"))


def test_smtp_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AdapterError, match="sender"):
        smtp_channel.factory({"host": "h"})
    with pytest.raises(AdapterError, match="e-mail address"):
        smtp_channel.factory({"host": "h", "sender": "nobody"})
    with pytest.raises(AdapterError, match="SMTP_PW"):
        smtp_channel.factory({"host": "h", "sender": "a@b.example", "password_env": "SMTP_PW"})
    with pytest.raises(AdapterError, match="port must be a number"):
        smtp_channel.factory({"host": "h", "sender": "a@b.example", "port": "25"})
    monkeypatch.setenv("SMTP_PW", "pw")
    channel = smtp_channel.factory({"host": "h", "sender": "a@b.example", "username": "u",
                                    "password_env": "SMTP_PW"})  # fmt: skip
    assert channel.username == "u"


def test_sms_posts_json_with_idempotency_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMS_TOKEN", "t0k")
    with sms_receiver() as gateway:
        channel = sms_channel.factory({"url": gateway.url, "token_env": "SMS_TOKEN",
                                       "sender": "POWER"})  # fmt: skip
        channel.send(Outgoing("stsvend.sale.7.http-sms", "C-1", "+27825550100", "S", "Body\n"))
        channel.close()
    (post,) = gateway.posts
    assert post["body"] == {"to": "+27825550100", "text": "Body",
                            "message_id": "stsvend.sale.7.http-sms", "sender": "POWER"}
    assert post["headers"]["Idempotency-Key"] == "stsvend.sale.7.http-sms"
    assert post["headers"]["Authorization"] == "Bearer t0k"


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (429, False), (400, True)])
def test_sms_failures(status: int, permanent: bool) -> None:
    with sms_receiver() as gateway:
        gateway.status = status
        channel = sms_channel.factory({"url": gateway.url})
        with pytest.raises(DeliveryError, match=f"HTTP {status}") as caught:
            channel.send(Outgoing("m", "C-1", "+27825550100", "S", "B\n"))
        channel.close()
    assert caught.value.permanent is permanent


def test_sms_repeat_the_gateway_has_is_taken() -> None:
    with sms_receiver() as gateway:
        gateway.status = 409
        channel = sms_channel.factory({"url": gateway.url})
        channel.send(Outgoing("m", "C-1", "+27825550100", "S", "B\n"))
        channel.close()


def test_sms_timeout_and_unreachable() -> None:
    with sms_receiver() as gateway:
        gateway.delay = 1.0
        channel = sms_channel.factory({"url": gateway.url, "timeout": 0.2})
        with pytest.raises(DeliveryError, match="in time"):
            channel.send(Outgoing("m", "C-1", "+27825550100", "S", "B\n"))
        channel.close()
        url = gateway.url
    channel = sms_channel.factory({"url": url, "timeout": 1})
    with pytest.raises(DeliveryError, match="cannot be reached"):
        channel.send(Outgoing("m", "C-1", "+27825550100", "S", "B\n"))
    channel.close()


def test_crm_lookup() -> None:
    with crm_service() as crm:
        crm.contacts["C 1/x"] = {"phone": "+27 82 555 0100", "email": "a@b.example",
                                 "language": "fr"}  # fmt: skip
        crm.contacts["C-2"] = {"phone": 27825550100}  # type: ignore[dict-item]
        lookup = crm_contacts.factory({"base_url": crm.url + "/"})
        assert lookup.contact("C 1/x") == Contact("+27 82 555 0100", "a@b.example", "fr")
        assert lookup.contact("C-2") == Contact()  # a number is not a phone number's text
        assert lookup.contact("C-9") is None
        crm.status = 500
        with pytest.raises(ContactLookupError, match="HTTP 500"):
            lookup.contact("C-2")
        lookup.close()
        url = crm.url
    lookup = crm_contacts.factory({"base_url": url, "timeout": 1})
    with pytest.raises(ContactLookupError, match="cannot be reached"):
        lookup.contact("C-1")
    lookup.close()


def test_crm_answer_not_json_or_not_an_object() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Bad(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = b"[1]" if "list" in self.path else b"<html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bad)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        lookup = crm_contacts.factory({"base_url": f"http://127.0.0.1:{server.server_address[1]}"})
        with pytest.raises(ContactLookupError, match="not JSON"):
            lookup.contact("C-1")
        with pytest.raises(ContactLookupError, match="not a JSON object"):
            lookup.contact("list")
        lookup.close()
    finally:
        server.shutdown()
        server.server_close()
