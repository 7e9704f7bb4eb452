"""``stsvend worker``: the long-running parts (work orders, notices, key change jobs, …).

The worker logs in as an operator like any command (``STSVEND_OPERATOR``, ``STSVEND_PIN``:
under systemd, an environment file only root can read), opens the keystore when a KEK is in
its environment, and runs the worker parts (:mod:`stsvend.adapters.runner`): every installed
part of the ``worker`` adapter group, or those named with ``--part``.  SIGTERM or Ctrl-C ends
it after the round under way (exit 0).  ``--once`` runs one round of each part, for cron.
``--health-port`` answers ``GET /health`` on 127.0.0.1 with the runner's health (200 ``ok``,
503 when a part keeps failing or the worker is stopping).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import click

from stsvend_cli.common import ENV_OPERATOR, ENV_PIN, session, whole

if TYPE_CHECKING:
    from stsvend.adapters.runner import Runner
    from stsvend.adapters.worker import WorkerPart
    from stsvend.services.context import Actor, Services

__all__ = ["worker"]

_KEK_VARIABLES = ("STSVEND_KEK", "STSVEND_KEK_FILE", "STSVEND_KEK_PASSPHRASE")


def _parts(svc: Services, actor: Actor, wanted: tuple[str, ...]) -> list[WorkerPart]:
    from stsvend.adapters.registry import AdapterError, configured, installed, load
    from stsvend.adapters.worker import WorkerPart

    names = list(wanted) or [a.name for a in installed(group="worker")]
    if not names:
        raise AdapterError("no worker parts are installed (stsvend adapters list)")
    parts: list[WorkerPart] = []
    for name in dict.fromkeys(names):
        factory = load("worker", name)
        settings = svc.config.adapter_settings("worker", name)
        status = configured(factory, settings)
        if status != "ready":
            if wanted:
                raise AdapterError(f"the worker part {name!r} is {status}")
            click.echo(json.dumps({"event": "part_skipped", "part": name, "why": status}),
                       err=True)  # fmt: skip
            continue
        part = factory(svc, actor, settings or {})
        if not isinstance(part, WorkerPart):
            raise AdapterError(f"the worker part {name!r} is not a worker part")
        parts.append(part)
    if not parts:
        raise AdapterError("no worker part is ready to run (stsvend adapters list)")
    return parts


def _health_server(runner: Runner, port: int) -> ThreadingHTTPServer:
    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                self.send_error(404)
                return
            doc = runner.health()
            body = json.dumps(doc).encode()
            self.send_response(200 if doc["status"] == "ok" else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Health checks are not logged: they would drown the worker's own lines."""

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Health)
    except OSError as exc:
        from stsvend.errors import InputError

        raise InputError(f"--health-port {port}: {exc.strerror}") from None
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server


def _refuse_failures(runner: Runner) -> None:
    from stsvend.adapters.registry import AdapterError

    failed = {name: p["last_error"] for name, p in runner.health()["parts"].items()
              if p["failures_in_a_row"]}  # fmt: skip
    if failed:
        raise AdapterError("; ".join(f"the worker part {n!r} failed: {e}"
                                     for n, e in failed.items()))  # fmt: skip


@click.command()
@click.option("--part", "wanted", multiple=True, metavar="NAME",
              help="Run only this part (repeatable; default: every installed part).")
@click.option("--once", is_flag=True, help="One round of each part, then exit (for cron).")
@click.option("--health-port", "health_text", default=None, envvar="STSVEND_WORKER_HEALTH_PORT",
              metavar="PORT", help="Answer GET /health on 127.0.0.1:PORT.")
@click.option("--operator", envvar=ENV_OPERATOR, metavar="NAME",
              help=f"Operator the worker runs as (or {ENV_OPERATOR}).")
@click.option("--pin-env", default=ENV_PIN, show_default=True, metavar="VAR",
              help="Environment variable holding the operator's PIN.")  # fmt: skip
def worker(
    wanted: tuple[str, ...], once: bool, health_text: str | None, operator: str | None,
    pin_env: str,
) -> None:  # fmt: skip
    """Run the long-running parts until SIGTERM (or one round each with --once)."""
    from stsvend.adapters.runner import Runner

    port = whole(health_text, "--health-port", 1, 65_535)
    keys = any(os.environ.get(name) for name in _KEK_VARIABLES)
    sess = session(operator, pin_env, keys=keys)
    try:
        runner = Runner(_parts(sess.svc, sess.actor, wanted))
        health = _health_server(runner, port) if port is not None else None
        previous = {sig: signal.signal(sig, lambda *_: runner.stop())
                    for sig in (signal.SIGTERM, signal.SIGINT)}  # fmt: skip
        started = {"event": "started", "parts": list(runner.health()["parts"]),
                   "operator": sess.actor.username}  # fmt: skip
        print(json.dumps(started), file=sys.stderr, flush=True)
        try:
            if once:
                handled = runner.run_each_once()
                click.echo(f"one round of each part: {handled} items handled")
                _refuse_failures(runner)
            else:
                runner.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if health is not None:
                health.shutdown()
        print(json.dumps({"event": "stopped"}), file=sys.stderr, flush=True)
    finally:
        sess.close()
