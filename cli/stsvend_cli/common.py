"""What the clerk's commands share: configuration, opening the services, operator login,
``--json`` output and rich tables.

The operator is named by ``--operator`` (or ``STSVEND_OPERATOR``); the PIN comes from the
environment variable named by ``--pin-env`` (default ``STSVEND_PIN``) or, when that is unset,
from a hidden prompt.  An operator who must choose a new PIN (one set by an admin, or shorter
than 6 digits) gives it in ``STSVEND_NEW_PIN`` or at a hidden prompt (asked twice), and the
command then goes on; without either it is refused.  A PIN is never a command-line value: it
would end up in shell history.

Heavy imports (SQLAlchemy, rich, the keystore) happen inside the functions, so that loading a
command module stays cheap.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from stsvend.config import Config
    from stsvend.services.context import Actor, Services

__all__ = [
    "ENV_NEW_PIN",
    "ENV_OPERATOR",
    "ENV_PIN",
    "Session",
    "console",
    "emit",
    "json_option",
    "load_config",
    "log_in",
    "money",
    "open_services",
    "operator_options",
    "read_new_pin",
    "read_pin",
    "read_text",
    "session",
    "table",
    "units",
    "whole",
]

ENV_OPERATOR = "STSVEND_OPERATOR"
ENV_PIN = "STSVEND_PIN"
ENV_NEW_PIN = "STSVEND_NEW_PIN"

F = TypeVar("F", bound=Callable[..., Any])

_CONSOLE = "stsvend.console"


def load_config() -> Config:
    """This process's configuration; a data directory open to others is tightened to 0700
    first (said once, on standard error, when it happens)."""
    from stsvend.config import load_config as _load
    from stsvend.files import DATA_DIR_MODE, secure_data_dir

    config = _load()
    was = secure_data_dir(config.data_dir)
    if was is not None:
        click.echo(
            f"note: the data directory {config.data_dir} was open to others (mode {was:04o}); "
            f"it is now {DATA_DIR_MODE:04o}",
            err=True,
        )
    return config


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


def read_new_pin(pin_env: str | None = ENV_NEW_PIN, *, prompt: str = "New PIN") -> str | None:
    """A PIN being chosen: from ``pin_env`` (if named) or a hidden prompt asked twice (None:
    neither)."""
    value = os.environ.get(pin_env) if pin_env else None
    if value:
        return value
    if not sys.stdin.isatty():
        return None
    text: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
    return text


def log_in(
    svc: Services, operator: str, pin_env: str, *, other_pin_env: str | None = None
) -> Actor:
    """Log the operator in; if they must choose a new PIN, take it (``STSVEND_NEW_PIN`` or a
    prompt) and go on, else refuse.  ``other_pin_env`` is the variable this command reads
    another operator's PIN from: it is never taken as the operator's own new PIN."""
    from stsvend.services.auth import PinChangeRequired, login

    pin = read_pin(pin_env)
    try:
        return login(svc, operator, pin)
    except PinChangeRequired as exc:
        new_pin = read_new_pin(ENV_NEW_PIN if other_pin_env != ENV_NEW_PIN else None)
        if new_pin is None:
            hint = (
                f"run `stsvend operators change-pin` first ({ENV_NEW_PIN} is this command's "
                "PIN for the other operator)"
                if other_pin_env == ENV_NEW_PIN
                else f"give it in {ENV_NEW_PIN} or run the command at a terminal"
            )
            raise PinChangeRequired(f"{exc.message}: {hint}") from None
        return login(svc, operator, pin, new_pin=new_pin)


class Session:
    """The opened services and the logged-in operator of one command."""

    def __init__(self, svc: Services, actor: Actor) -> None:
        self.svc = svc
        self.actor = actor

    def close(self) -> None:
        self.svc.store.dispose()


def session(
    operator: str | None, pin_env: str, *, keys: bool = True, other_pin_env: str | None = None
) -> Session:
    """Open the services and log the operator in (PIN from the environment or a prompt)."""
    from stsvend.errors import InputError

    if not operator:
        raise InputError(f"name the operator: --operator NAME (or {ENV_OPERATOR})")
    svc = open_services(keys=keys)
    try:
        actor = log_in(svc, operator, pin_env, other_pin_env=other_pin_env)
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
            # A command that reads another operator's PIN names its variable `new_pin_env`.
            other = kwargs.get("new_pin_env")
            sess = session(operator, pin_env, keys=keys, other_pin_env=other)
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


def console() -> Console:
    """The rich console of the running command.

    One per run, never per process: a console fixes its width, colours and terminal detection
    from the environment and the output stream when it is made, and a later run in the same
    process (an embedding program, a test) may have others.
    """
    from rich.console import Console

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return Console(highlight=False)
    meta = ctx.find_root().meta
    made: Console | None = meta.get(_CONSOLE)
    if made is None:
        made = meta[_CONSOLE] = Console(highlight=False)
    return made


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    from rich.table import Table

    out = Table(title=title)
    for column in columns:
        out.add_column(column)
    from stsvend_cli.human import cell

    for row in rows:
        # Flags read yes/no, None is blank, mappings are "key: value" (never Python's spelling).
        out.add_row(*[cell(v) for v in row])
    return out


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data`` as JSON (``--json``) or through ``render`` (rich, for people)."""
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
    else:
        render(data)


def read_text(path: Path) -> str:
    """A UTF-8 text file's content, or one clear line (InputError) when it cannot be read."""
    from stsvend.errors import InputError

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def whole(text: str | None, what: str, low: int, high: int) -> int | None:
    """An option's whole number (plain ASCII digits in ``low..high``), None if not given."""
    from stsvend.plaintext import parse_whole

    return None if text is None else parse_whole(text, what, low, high)


def money(minor: int, currency: str) -> str:
    """Minor units in the currency's format, e.g. ``ZAR 1,012.50`` (never through a float)."""
    from stsvend_cli.human import money_text

    return money_text(minor, currency)


def units(tenths: int, unit: str | None = "kWh") -> str:
    """STS tenths in the meter's unit, e.g. ``25.0 kWh``, ``1.5 m³`` (``""``: the number
    alone, where a column names the unit)."""
    from stsvend_cli.human import units_text

    if unit == "":
        sign = "-" if tenths < 0 else ""
        return f"{sign}{abs(int(tenths)) // 10}.{abs(int(tenths)) % 10}"
    return units_text(tenths, unit)
