"""What the clerk's commands share: configuration, opening the services, operator login,
``--json`` output and rich tables.

The operator is named by ``--operator`` (or ``STSVEND_OPERATOR``); the PIN comes from the
environment variable named by ``--pin-env`` (default ``STSVEND_PIN``) or, when that is unset,
from a hidden prompt.  A PIN is never a command-line value: it would end up in shell history.

Heavy imports (SQLAlchemy, rich, the keystore) happen inside the functions, so that loading a
command module stays cheap.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from stsvend.config import Config
    from stsvend.services.context import Actor, Services

__all__ = [
    "ENV_OPERATOR",
    "ENV_PIN",
    "Session",
    "console",
    "emit",
    "json_option",
    "load_config",
    "money",
    "open_services",
    "operator_options",
    "read_pin",
    "session",
    "table",
    "units",
    "whole",
]

ENV_OPERATOR = "STSVEND_OPERATOR"
ENV_PIN = "STSVEND_PIN"

F = TypeVar("F", bound=Callable[..., Any])


def load_config() -> Config:
    from stsvend.config import load_config as _load

    return _load()


def open_services(*, keys: bool = True, demo: bool = False, migrate: bool = False) -> Services:
    from stsvend.services.bootstrap import open_services as _open

    return _open(load_config(), keys=keys, demo=demo, migrate=migrate)


def json_option(fn: F) -> F:
    """``--json``: print the result as one JSON document (for scripts)."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(fn)


def operator_options(fn: F) -> F:
    """``--operator NAME`` and ``--pin-env VAR`` (the PIN never travels as an argument)."""
    fn = click.option(
        "--pin-env",
        default=ENV_PIN,
        show_default=True,
        metavar="VAR",
        help="Environment variable holding the PIN (else you are asked for it).",
    )(fn)
    return click.option(
        "--operator",
        "operator",
        envvar=ENV_OPERATOR,
        metavar="NAME",
        help=f"Operator name (or {ENV_OPERATOR}).",
    )(fn)


def read_pin(pin_env: str, prompt: str = "PIN") -> str:
    value = os.environ.get(pin_env)
    if value:
        return value
    if not sys.stdin.isatty():
        from stsvend.errors import InputError

        raise InputError(f"no PIN: set {pin_env} or run the command at a terminal")
    text: str = click.prompt(prompt, hide_input=True)
    return text


class Session:
    """The opened services and the logged-in operator of one command."""

    def __init__(self, svc: Services, actor: Actor) -> None:
        self.svc = svc
        self.actor = actor

    def close(self) -> None:
        self.svc.store.dispose()


def session(operator: str | None, pin_env: str, *, keys: bool = True) -> Session:
    """Open the services and log the operator in (PIN from the environment or a prompt)."""
    from stsvend.errors import InputError
    from stsvend.services.auth import login

    if not operator:
        raise InputError(f"name the operator: --operator NAME (or {ENV_OPERATOR})")
    svc = open_services(keys=keys)
    try:
        actor = login(svc, operator, read_pin(pin_env))
    except BaseException:
        svc.store.dispose()
        raise
    return Session(svc, actor)


def with_session(keys: bool = True, action: str | None = None) -> Callable[[F], F]:
    """Decorate a command taking ``sess`` first: login from its operator options.

    ``action`` (an :class:`~stsvend.vending.roles.Action` value) is authorised right after the
    login, before the command reads any value it was given: an operator without the right gets
    the refusal, never a parse error that tells what would have been accepted.  So commands
    take their values (money, dates, numbers, keys) as raw text and parse them in their body.
    """

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, operator: str | None, pin_env: str, **kwargs: Any) -> Any:
            sess = session(operator, pin_env, keys=keys)
            try:
                if action is not None:
                    from stsvend.services.auth import authorize
                    from stsvend.vending.roles import Action

                    authorize(sess.svc, sess.actor, Action(action))
                return fn(sess, *args, **kwargs)
            finally:
                sess.close()

        return operator_options(run)  # type: ignore[return-value]

    return wrap


@functools.cache
def console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    from rich.table import Table

    out = Table(title=title)
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*["" if v is None else str(v) for v in row])
    return out


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON (``--json``) or through ``render`` (rich, for people)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        render(data)


def whole(text: str | None, what: str, low: int, high: int) -> int | None:
    """An option's whole number (plain ASCII digits in ``low..high``), None if not given."""
    from stsvend.plaintext import parse_whole

    return None if text is None else parse_whole(text, what, low, high)


def money(minor: int, currency: str) -> str:
    """Minor units as a decimal amount, e.g. ``12.50`` (never through a float)."""
    from stsvend.vending.money import Money

    return Money(int(minor), currency).format()


def units(tenths: int, unit: str = "kWh") -> str:
    """STS tenths as units, e.g. ``25.0 kWh``."""
    sign = "-" if tenths < 0 else ""
    value = abs(int(tenths))
    return f"{sign}{value // 10}.{value % 10} {unit}"
