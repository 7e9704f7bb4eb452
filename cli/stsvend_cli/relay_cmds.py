"""``stsvend meters relay``: a meter's supply relay, operated remotely through a control adapter.

Also the adapter's loading, shared with ``stsvend readings dlms-read``.
"""

from __future__ import annotations

from typing import Any

import click

from stsvend_cli.common import Session, emit, json_option, with_session

__all__ = ["control_adapter", "relay"]


def control_adapter(sess: Session, name: str) -> Any:
    """Control adapter ``name``, built with its ``[adapters.control.NAME]`` settings."""
    from stsvend.adapters.registry import load

    factory = load("control", name)
    return factory(sess.svc.config.adapter_settings("control", name))


@click.command("relay")
@click.argument("drn")
@click.option("--disconnect", "command", flag_value="disconnect", help="Open the relay.")
@click.option("--reconnect", "command", flag_value="reconnect",
              help="Close it (or make it ready for the customer to close).")  # fmt: skip
@click.option("--state", "command", flag_value="state", help="Only read its state.")
@click.option("--via", default="dlms", show_default=True, help="The control adapter.")
@json_option
@with_session(keys=False, action="meters.relay")
def relay(sess: Session, drn: str, command: str | None, via: str, as_json: bool) -> None:
    """Disconnect or reconnect a meter's supply, or read its relay (the meter's answer)."""
    from stsvend.errors import InputError, StsError
    from stsvend.services.meter_control import record_relay, relay_target

    if command is None:
        raise InputError("say what to do: --disconnect, --reconnect or --state")
    number = relay_target(sess.svc, sess.actor, drn)
    control = control_adapter(sess, via)
    try:
        result = getattr(control, command)(number)
    except StsError as exc:
        record_relay(sess.svc, sess.actor, number, command, ok=False,
                     detail={"via": via, "error": exc.message})  # fmt: skip
        raise
    doc = {"drn": result.drn, "command": command, "control_state": result.control_state,
           "state": result.state, "output_state": result.output_state,
           "control_mode": result.control_mode, "attempts": result.attempts}  # fmt: skip
    record_relay(sess.svc, sess.actor, number, command, ok=True,
                 detail={"via": via, "state": result.state,
                         "output_state": result.output_state})  # fmt: skip
    emit(doc, as_json, lambda d: click.echo(
        f"meter {d['drn']}: {d['state']}, supply {'on' if d['output_state'] else 'off'} "
        f"(control mode {d['control_mode']})"))  # fmt: skip
