"""Contacts, message ids, templates and the worker part's settings, without a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.adapters.notify.worker import Notifier, build, factory, policy_of
from stsvend.adapters.registry import AdapterError, load
from stsvend.adapters.worker import WorkerPart
from stsvend.services.notices.model import KINDS, Contact, contact_problem
from stsvend.services.notices.outbox import RetryPolicy
from stsvend.services.notices.producer import message_id
from stsvend.services.notices.templates import TemplateError, render
from stsvend.services.notices.templates import load as load_template
from tests.services.helpers import Installation

VALUES = {
    "receipt": ["receipt", "date", "meter", "contract", "amount", "units", "tokens"],
    "emergency_credit": ["receipt", "date", "meter", "contract", "amount", "units", "tokens"],
    "key_change": ["meter", "reason"],
    "debt": ["contract", "debt"],
    "low_credit": ["meter", "date", "units", "contract"],
    "work_order": ["order", "status", "detail"],
}


@pytest.mark.parametrize(
    ("phone", "problem"),
    [("+27 82 555 0100", None), ("(011) 555-0100", None), ("", "no phone number"),
     ("   ", "no phone number"), ("555 01", "too few digits in the phone number"),
     ("+1 234 567 890 123 456", "too many digits in the phone number"),
     ("082 CALL NOW", "letters in the phone number"), ("082#555#0100", "not a phone number"),
     ("٠٨٢٥٥٥٠١٠٠", "not a phone number")],
)  # fmt: skip
def test_phone_numbers(phone: str, problem: str | None) -> None:
    assert contact_problem(Contact(phone=phone), "phone") == problem


@pytest.mark.parametrize(
    ("email", "problem"),
    [("a@b.example", None), ("", "no e-mail address"), ("a@b", "malformed e-mail address"),
     ("a b@c.example", "malformed e-mail address"), ("a@@c.example", "malformed e-mail address"),
     ("@c.example", "malformed e-mail address")],
)  # fmt: skip
def test_email_addresses(email: str, problem: str | None) -> None:
    assert contact_problem(Contact(email=email), "email") == problem


def test_no_contact() -> None:
    assert contact_problem(None, "phone") == "no contact in the CRM"
    assert contact_problem(None, "none") is None


@given(st.text(max_size=30))
def test_a_problem_never_repeats_the_value(value: str) -> None:
    for address in ("phone", "email"):
        problem = contact_problem(Contact(phone=value, email=value), address)
        assert problem is None or len(value.strip()) < 3 or value.strip() not in problem


@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=3),
       st.sampled_from(["smtp", "http-sms", "file"]))  # fmt: skip
def test_message_ids_fit_a_mail_header(parts: list[str], channel: str) -> None:
    made = message_id("work-order", *parts, channel=channel)
    assert made == message_id("work-order", *parts, channel=channel)  # stable
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in made)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_shipped_template_fills_with_its_values(kind: str, language: str) -> None:
    values = {name: f"<{name}>" for name in VALUES[kind]}
    lang, _ = load_template(kind, language)
    assert lang == language
    subject, body = render(kind, language, values)
    assert subject and "$" not in subject + body


def test_templates_fall_back_and_refuse(tmp_path: Path) -> None:
    assert load_template("debt", "../../etc")[0] == "en"
    assert load_template("debt", "fr-CA")[0] == "fr"
    with pytest.raises(TemplateError, match="no kind"):
        load_template("nosuch", "en")
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "debt.txt").write_text("no subject line\n\nbody\n")
    with pytest.raises(TemplateError, match="Subject"):
        render("debt", "en", {"contract": "K", "debt": "1"}, tmp_path)
    (tmp_path / "en" / "debt.txt").write_text("Subject: x\n\n$ 5\n")
    with pytest.raises(TemplateError, match="malformed"):
        render("debt", "en", {"contract": "K", "debt": "1"}, tmp_path)
    (tmp_path / "en" / "debt.txt").write_bytes(b"Subject: \xff\n\nx\n")
    with pytest.raises(TemplateError, match="cannot be read"):
        render("debt", "en", {}, tmp_path)


def test_a_value_cannot_add_a_header() -> None:
    subject, _ = render("debt", "en", {"contract": "K-1\nBcc: x@y.example", "debt": "1"})
    assert "\n" not in subject


def test_policy_settings() -> None:
    assert policy_of({}) == RetryPolicy()
    with pytest.raises(AdapterError, match="max_attempts"):
        policy_of({"max_attempts": 0})
    with pytest.raises(AdapterError, match="negative"):
        policy_of({"backoff_seconds": -1})


def test_the_worker_part_from_its_entry_point(inst: Installation) -> None:
    assert load("worker", "notify") is factory
    part = factory(inst.svc, inst.admin, {"interval_seconds": 5})
    try:
        assert isinstance(part, WorkerPart) and part.name == "notify"
        assert isinstance(part, Notifier) and set(part.channels) == {"file"}
        assert part.interval_seconds == 5
    finally:
        part.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"channels": "nosuch"}, "no notify adapter 'nosuch'"),
     ({"channels": [1]}, "list of channel names"),
     ({"channels": []}, "list of channel names"),
     ({"channels": ["file"], "contacts": "nosuch"}, "no contacts adapter"),
     ({"channels": ["file", "smtp"]}, r"\[adapters.notify.smtp\]: setting host")],
)  # fmt: skip
def test_worker_settings_refused(inst: Installation, settings: dict[str, object],
                                 message: str) -> None:  # fmt: skip
    with pytest.raises(AdapterError, match=message):
        build(inst.svc, settings)
