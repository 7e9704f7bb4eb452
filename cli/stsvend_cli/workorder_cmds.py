"""``stsvend workorders``: the work-order pipeline (run, --once), routes, status, credit.

``run`` works the ``[adapters.worker.workorders]`` folders as a long-running process (stopped
by Ctrl-C or SIGTERM after the round in hand) or, with ``--once``, until nothing is left to do
(for cron).  The operator it runs as registers meters and issues credit transfers: an engineer
or a supervisor with an open shift.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from stsvend_cli.common import Session, console, emit, json_option, table, with_session
from stsvend_cli.receipt_out import Delivery, deliver

__all__ = ["workorders"]

#: The most rounds one ``--once`` makes (each takes up to 100 files and 50 messages a kind).
_ONCE_ROUNDS = 1000


@click.group()
def workorders() -> None:
    """Installation work orders: intake, routing, acknowledgements, credit transfers."""


def _part(sess: Session) -> Any:
    from stsvend.adapters.registry import AdapterError
    from stsvend.adapters.workorders.part import factory

    settings = sess.svc.config.adapter_settings("worker", "workorders")
    if settings is None:
        raise AdapterError("no [adapters.worker.workorders] table in the configuration file: "
                           "name the folders drop, working, done, rejected, results")  # fmt: skip
    return factory(sess.svc, sess.actor, settings)


@workorders.command("run")
@click.option("--once", is_flag=True, help="Work until nothing is left, then stop (cron).")
@json_option
@with_session(action="workorders.manage")
def run(sess: Session, once: bool, as_json: bool) -> None:
    """Take in dropped files, route orders, apply completions, write results."""
    part = _part(sess)
    try:
        if once:
            total = 0
            for _ in range(_ONCE_ROUNDS):
                done = part.run_once()
                total += done
                if done == 0:
                    break
            emit({"handled": total}, as_json, lambda d: click.echo(f"handled {d['handled']}"))
            return
        _forever(part)
    finally:
        part.close()


def _forever(part: Any) -> None:
    from stsvend.errors import StsError

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
    failures = 0
    try:
        while not stop.is_set():
            try:
                done = part.run_once()
                failures = 0
            except StsError as exc:  # this round's failure: said, then tried again later
                failures += 1
                click.echo(f"workorders: {exc.code}: {exc.message}", err=True)
                stop.wait(min(300.0, 2.0 ** failures))
                continue
            if done == 0:
                stop.wait(part.interval_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@workorders.group("route")
def route() -> None:
    """The routing rule of each order type."""


@route.command("set")
@click.argument("order_type", metavar="TYPE")
@click.option("--url", required=True, help="The installer's system's address (http/https).")
@click.option("--adapter", default="http-json", show_default=True, help="The route adapter.")
@json_option
@with_session(keys=False, action="workorders.manage")
def route_set(sess: Session, order_type: str, url: str, adapter: str, as_json: bool) -> None:
    """Route orders of TYPE (installation, replacement, removal) to URL."""
    from stsvend.services.results import as_doc
    from stsvend.services.workorders import set_route

    rule = set_route(sess.svc, sess.actor, order_type, url, adapter=adapter)
    emit(as_doc(rule), as_json,
         lambda d: click.echo(f"{d['order_type']} orders go to {d['url']} ({d['adapter']})"))


@route.command("list")
@json_option
@with_session(keys=False, action="workorders.view")
def route_list(sess: Session, as_json: bool) -> None:
    """List the routing rules."""
    from stsvend.services.results import as_doc
    from stsvend.services.workorders import list_routes

    rules = as_doc(list(list_routes(sess.svc, sess.actor)))
    emit({"routes": rules}, as_json, lambda d: console().print(table(
        "Work-order routes", ["type", "adapter", "url"],
        [[r["order_type"], r["adapter"], r["url"]] for r in d["routes"]])))


@workorders.command("status")
@json_option
@with_session(keys=False, action="workorders.view")
def status_cmd(sess: Session, as_json: bool) -> None:
    """The orders by state, and the failed steps."""
    from stsvend.services.results import as_doc
    from stsvend.services.workorders import status

    doc = as_doc(status(sess.svc, sess.actor))

    def render(d: dict[str, Any]) -> None:
        out = console()
        counts = ", ".join(f"{state} {n}" for state, n in sorted(d["counts"].items()))
        out.print(f"Work orders: {counts or 'none'}")
        if d["orders"]:
            out.print(table("Orders", ["order", "type", "state", "version", "bulk", "updated"],
                            [[o["order_id"], o["type"], o["state"], o["version"], o["bulk_id"],
                              o["updated_at"]] for o in d["orders"]]))  # fmt: skip
        if d["failures"]:
            out.print(table("Failures", ["step", "state", "order", "file", "attempts", "why"],
                            [[f["step"], f["state"], f["order_id"], f["source_file"],
                              f["attempts"], f["detail"]] for f in d["failures"]]))  # fmt: skip

    emit(doc, as_json, render)


@workorders.command("deliver-credit")
@click.argument("order")
@json_option
@with_session(action="workorders.credit")
def deliver_credit_cmd(sess: Session, order: str, as_json: bool) -> None:
    """Issue a replaced meter's credit to its new meter (refused while its key change is open)."""
    from stsvend.services.workorders import deliver_credit

    deliver(Delivery(None, None), deliver_credit(sess.svc, sess.actor, order), as_json)
