"""``stsvend notices``: customer notices, their outbox, opt-outs and contacts.

``send [--once]`` runs the ``notify`` worker part (scan, send, purge) as configured in
``[adapters.worker.notify]``; ``--once`` does it until nothing is due and stops (for cron).
``dead`` lists the dead letters and ``resend ID`` makes one due again; ``opt-out`` / ``opt-in``
record a customer's choice per channel; ``contacts-report`` lists the customers whose contact
the CRM lacks or gives malformed (the paper-notice list); ``purge --older-than DAYS`` blanks the
text of finished notices.  No command prints a notice's text or a contact.
"""

from __future__ import annotations

import time
from typing import Any

import click

from stsvend_cli.common import Session, console, emit, json_option, table, whole, with_session

__all__ = ["notices"]


def _settings(sess: Session) -> dict[str, Any]:
    return sess.svc.config.adapter_settings("worker", "notify") or {}


@click.group()
def notices() -> None:
    """Customer notices: send, dead letters, opt-outs, contacts report, purge."""


@notices.command("send")
@click.option("--once", is_flag=True, help="One pass until nothing is due, then stop (cron).")
@json_option
@with_session(keys=False, action="customers.manage")
def notices_send(sess: Session, once: bool, as_json: bool) -> None:
    """Enqueue new notices and send the due ones (retries, dead letters, daily purge)."""
    from stsvend.adapters.notify.worker import build
    from stsvend.services.notices.outbox import purge_daily

    notifier = build(sess.svc, _settings(sess))
    totals = {"enqueued": 0, "sent": 0, "retried": 0, "dead": 0, "skipped": 0}
    try:
        while True:
            totals["enqueued"] += notifier.produce()
            done = notifier.send()
            for key in ("sent", "retried", "dead", "skipped"):
                totals[key] += getattr(done, key)
            purge_daily(sess.svc, notifier.retention_days)
            if done.handled:
                continue
            if once:
                break
            time.sleep(notifier.interval_seconds)  # pragma: no cover - the long-running form
    except KeyboardInterrupt:  # pragma: no cover - the long-running form's stop
        pass
    finally:
        notifier.close()
    emit(totals, as_json, lambda t: click.echo(
        "notices: {enqueued} enqueued, {sent} sent, {retried} to retry, {dead} dead, "
        "{skipped} skipped".format(**t)))  # fmt: skip


@notices.command("dead")
@json_option
@with_session(keys=False, action="customers.view")
def notices_dead(sess: Session, as_json: bool) -> None:
    """List the dead letters (notices given up on), oldest first."""
    from stsvend.services.notices.outbox import dead_letters

    rows = [{"id": d.id, "message_id": d.message_id, "channel": d.channel, "kind": d.kind,
             "customer": d.customer_number, "attempts": d.attempts, "last_error": d.last_error,
             "created_at": d.created_at.isoformat()}
            for d in dead_letters(sess.svc, sess.actor)]  # fmt: skip
    emit({"dead": rows}, as_json, lambda doc: console().print(table(
        "Dead letters", ["id", "customer", "kind", "channel", "attempts", "last error"],
        [[r["id"], r["customer"], r["kind"], r["channel"], r["attempts"], r["last_error"]]
         for r in doc["dead"]])))  # fmt: skip


@notices.command("resend")
@click.argument("notice_id", metavar="ID")
@json_option
@with_session(keys=False, action="customers.manage")
def notices_resend(sess: Session, notice_id: str, as_json: bool) -> None:
    """Make dead letter ID due again (the next send takes it)."""
    from stsvend.services.notices.outbox import resend

    number = whole(notice_id, "a notice id", 1, 2**62)
    assert number is not None
    done = resend(sess.svc, sess.actor, number)
    emit({"id": done.id, "message_id": done.message_id, "state": "pending"}, as_json,
         lambda d: click.echo(f"notice {d['id']} is due again"))  # fmt: skip


def _opt(sess: Session, customer: str, channel: str, out: bool, as_json: bool) -> None:
    from stsvend.services.notices.outbox import set_opt_out

    changed = set_opt_out(sess.svc, sess.actor, customer, channel, opted_out=out)
    doc = {"customer": customer, "channel": channel.strip().lower(), "opted_out": out,
           "changed": changed}  # fmt: skip
    word = "takes no" if out else "takes"
    emit(doc, as_json, lambda d: click.echo(
        f"customer {d['customer']} {word} notices by {d['channel']}"
        + ("" if changed else " (as before)")))  # fmt: skip


@notices.command("opt-out")
@click.argument("customer")
@click.option("--channel", required=True, help="The channel refused (file, smtp, http-sms, …).")
@json_option
@with_session(keys=False, action="customers.manage")
def notices_opt_out(sess: Session, customer: str, channel: str, as_json: bool) -> None:
    """Record that CUSTOMER takes no notices on a channel."""
    _opt(sess, customer, channel, True, as_json)


@notices.command("opt-in")
@click.argument("customer")
@click.option("--channel", required=True, help="The channel taken again.")
@json_option
@with_session(keys=False, action="customers.manage")
def notices_opt_in(sess: Session, customer: str, channel: str, as_json: bool) -> None:
    """Record that CUSTOMER takes notices on a channel again."""
    _opt(sess, customer, channel, False, as_json)


@notices.command("contacts-report")
@json_option
@with_session(keys=False, action="customers.view")
def notices_contacts_report(sess: Session, as_json: bool) -> None:
    """Customers whose contact is missing or invalid (they get paper notices)."""
    from stsvend.adapters.notify.worker import build
    from stsvend.adapters.registry import AdapterError
    from stsvend.services.notices.contacts import contacts_report

    notifier = build(sess.svc, _settings(sess))
    try:
        if notifier.lookup is None:
            raise AdapterError("no contact lookup: set contacts in [adapters.worker.notify]")
        needs = sorted({c.address for c in notifier.channels.values()} - {"none"})
        lines = contacts_report(sess.svc, sess.actor, notifier.lookup, needs or ("phone", "email"))
    finally:
        notifier.close()
    rows = [{"customer": line.customer_number, "paper": line.paper,
             "problems": [{"address": a, "problem": p} for a, p in line.problems]}
            for line in lines]  # fmt: skip
    emit({"customers": rows}, as_json, lambda doc: console().print(table(
        "Customers without a usable contact", ["customer", "problems", "paper notice"],
        [[r["customer"], "; ".join(f"{p['address']}: {p['problem']}" for p in r["problems"]),
          r["paper"]] for r in doc["customers"]])))  # fmt: skip


@notices.command("purge")
@click.option("--older-than", "older_than", required=True, metavar="DAYS",
              help="Purge notices finished more than DAYS days ago.")  # fmt: skip
@json_option
@with_session(keys=False, action="customers.manage")
def notices_purge(sess: Session, older_than: str, as_json: bool) -> None:
    """Blank the text and figures (token digits) of finished notices."""
    from stsvend.services.notices.outbox import purge

    days = whole(older_than, "--older-than", 0, 36500)
    assert days is not None
    done = purge(sess.svc, sess.actor, days)
    emit({"purged": done, "older_than_days": days}, as_json,
         lambda d: click.echo(f"purged {d['purged']} notices"))  # fmt: skip
