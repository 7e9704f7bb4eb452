"""An installation with notices wired to real local servers, on SQLite or PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from stsvend.adapters.notify.crm_contacts import HttpContacts
from stsvend.adapters.notify.sms_channel import SmsChannel
from stsvend.adapters.notify.smtp_channel import SmtpChannel
from stsvend.adapters.notify.worker import Notifier
from stsvend.services.notices.model import Channel
from tests.notify.servers import CrmService, SmsReceiver, SmtpServer
from tests.services.helpers import Installation

__all__ = ["EMAIL", "PHONE", "all_text", "notifier", "rows"]

PHONE = "+27 82 555 0199"
EMAIL = "thandi.customer@mail.example"


def notifier(inst: Installation, smtp: SmtpServer | None, sms: SmsReceiver | None,
             crm: CrmService | None, **settings: Any) -> Notifier:  # fmt: skip
    """A notifier over the given servers (channels named smtp and http-sms)."""
    channels: dict[str, Channel] = {}
    if smtp is not None:
        channels["smtp"] = SmtpChannel("127.0.0.1", smtp.port, "Power <notices@power.example>",
                                       timeout=5)  # fmt: skip
    if sms is not None:
        channels["http-sms"] = SmsChannel(sms.url, timeout=1.0)
    lookup = HttpContacts(crm.url, timeout=2.0) if crm is not None else None
    return Notifier(inst.svc, channels, lookup, settings)


def rows(inst: Installation, sql: str = "SELECT message_id, kind, state, attempts, last_error "
         "FROM notice_outbox ORDER BY id") -> list[tuple[Any, ...]]:  # fmt: skip
    with inst.svc.store.transaction() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def all_text(inst: Installation) -> str:
    """Every value of every table, as text (to look for what must not be stored)."""
    from sqlalchemy import inspect

    out = []
    with inst.svc.store.transaction() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.exec_driver_sql(f'SELECT * FROM "{table}"'):
                out.append(json.dumps([str(v) for v in row]))
    return "\n".join(out)
