"""The ``smtp`` channel: notices as e-mail, through an SMTP server (:mod:`smtplib`).

Settings (``[adapters.notify.smtp]``): ``host`` and ``sender`` (required), ``port`` (25),
``starttls`` (false), ``ssl`` (false: SMTPS from the first byte), ``username`` and
``password_env`` (the variable holding the password; never the password itself), ``timeout``
seconds (30).  Each mail's ``Message-Id`` is ``<MESSAGE-ID@sender's domain>``, the notice's
stable id: a repeat after a crash carries the same one, so a mail system or reader that drops
duplicates drops it.  Any refusal (4xx, 5xx) or a lost connection fails the attempt (it is tried
again with backoff, then becomes a dead letter); errors never name the recipient.

>>> mail = SmtpChannel("h", 25, "Utility <notices@utility.example>").mail(
...     Outgoing("stsvend.sale.7.smtp", "C-1", "c@example.org", "Your token", "Body\\n"))
>>> mail["Message-Id"], mail["To"]
('<stsvend.sale.7.smtp@utility.example>', 'c@example.org')
"""

from __future__ import annotations

import smtplib
import ssl as ssl_module
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from stsvend.adapters.notify.settings import flag, number, secret, text
from stsvend.adapters.registry import AdapterError
from stsvend.services.notices.model import DeliveryError, Outgoing

__all__ = ["SmtpChannel", "factory"]


class SmtpChannel:
    """Sends each notice as one mail over its own SMTP session."""

    address = "email"

    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False,
                 use_ssl: bool = False, username: str | None = None,
                 password: str | None = None, timeout: float = 30.0) -> None:  # fmt: skip
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.use_ssl = starttls, use_ssl
        self.username, self._password, self.timeout = username, password, timeout
        address = parseaddr(sender)[1]
        if "@" not in address:
            raise AdapterError("setting sender must be an e-mail address")
        self.domain = address.rsplit("@", 1)[1]

    def mail(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-Id"] = f"<{message.message_id}@{self.domain}>"
        mail.set_content(message.body)
        return mail

    def _session(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl_module.create_default_context())  # fmt: skip
        session = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            session.starttls(context=ssl_module.create_default_context())
        return session

    def send(self, message: Outgoing) -> None:
        mail = self.mail(message)
        try:
            with self._session() as session:
                if self.username:
                    session.login(self.username, self._password or "")
                session.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryError(f"the SMTP server refused the recipient ({codes})") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"the SMTP server answered {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}") from None

    def close(self) -> None:
        pass


def factory(settings: Mapping[str, Any]) -> SmtpChannel:
    port = number(settings, "port", 25)
    return SmtpChannel(
        text(settings, "host"), int(port), text(settings, "sender"),
        starttls=flag(settings, "starttls"), use_ssl=flag(settings, "ssl"),
        username=settings.get("username") and text(settings, "username"),
        password=secret(settings, "password_env"),
        timeout=float(number(settings, "timeout", 30.0)),
    )  # fmt: skip


factory.description = "e-mail through an SMTP server"  # type: ignore[attr-defined]
factory.settings_required = ("host", "sender")  # type: ignore[attr-defined]
