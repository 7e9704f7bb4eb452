"""The ``stsvend-keypad`` command (also ``python -m stsvend_keypad``).

Every error a user can cause is an :class:`~stsvend.errors.StsError`; :func:`main` prints its
message (never a traceback) and exits with status 1.  Usage errors exit with status 2.

>>> from click.testing import CliRunner
>>> CliRunner().invoke(cli, ["--help"]).output.splitlines()[0]
'Usage: stsvend-keypad [OPTIONS] COMMAND [ARGS]...'
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from stsvend import __version__
from stsvend.errors import StsError
from stsvend_keypad.profiles import SAMPLE_PROFILE, state_path_for
from stsvend_keypad.session import Session

__all__ = ["cli", "main"]

_PROFILE = click.argument("profile", type=click.Path(exists=True, dir_okay=False, path_type=Path))


F = TypeVar("F", bound=Callable[..., Any])


def _session_options(default_clock: str) -> Callable[[F], F]:
    """The options every session command shares."""

    def decorate(f: F) -> F:
        f = click.option(
            "--state",
            "state_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="State file (default: <profile>.state.json).",
        )(f)
        f = click.option(
            "--reset", is_flag=True, help="Forget the saved state: start with a new meter."
        )(f)
        f = click.option(
            "--clock",
            "clock_mode",
            type=click.Choice(["manual", "wall"]),
            default=default_clock,
            show_default=True,
            help="manual: time moves only when told; wall: also in real time.",
        )(f)
        f = click.option(
            "--start",
            type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]),
            help="Manufacture time of a new meter, e.g. 2024-06-01T08:00:00+0000.",
        )(f)
        return f

    return decorate


def _open(
    profile: Path, state_path: Path | None, reset: bool, clock_mode: str, start: datetime | None
) -> Session:
    if start is not None and start.tzinfo is None:
        raise click.BadParameter("give a timezone offset, e.g. +0000", param_hint="--start")
    return Session.open(
        profile,
        clock_mode="wall" if clock_mode == "wall" else "manual",
        state_path=state_path,
        reset=reset,
        start=start,
    )


@click.group(name="stsvend-keypad", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stsvend-keypad")
def cli() -> None:
    """An STS meter keypad simulator: type tokens, watch what the meter does."""


@cli.command()
@_PROFILE
@_session_options("wall")
def run(
    profile: Path, state_path: Path | None, reset: bool, clock_mode: str, start: datetime | None
) -> None:
    """The interactive meter in this terminal."""
    from stsvend_keypad.interactive import run_interactive

    run_interactive(_open(profile, state_path, reset, clock_mode, start))


@cli.command()
@_PROFILE
@click.argument("script", type=click.File("r", encoding="utf-8"), default="-")
@_session_options("manual")
def script(
    profile: Path,
    script: Any,
    state_path: Path | None,
    reset: bool,
    clock_mode: str,
    start: datetime | None,
) -> None:
    """Run commands from SCRIPT (default: stdin); one JSON line per step on stdout."""
    from stsvend_keypad.script_mode import run_script

    session = _open(profile, state_path, reset, clock_mode, start)
    run_script(session, script, sys.stdout)


@cli.command()
@_PROFILE
@click.option(
    "--port",
    "url",
    required=True,
    help="pyserial port: /dev/ttyUSB0, a pty path, socket://host:port, loop://",
)
@click.option("--baud", default=9600, show_default=True, help="Baud rate (real ports).")
@click.option(
    "--idle-timeout",
    type=float,
    default=None,
    help="Stop after this many seconds without a request.",
)
@_session_options("manual")
def serial(
    profile: Path,
    url: str,
    baud: int,
    idle_timeout: float | None,
    state_path: Path | None,
    reset: bool,
    clock_mode: str,
    start: datetime | None,
) -> None:
    """Serve the line protocol on a serial port (docs/keypad-simulator.md)."""
    from stsvend_keypad.serial_link import open_port, serve

    session = _open(profile, state_path, reset, clock_mode, start)
    port = open_port(url, baud)
    try:
        why = serve(session, port, idle_timeout=idle_timeout)
    finally:
        port.close()
    click.echo(f"serial session ended: {why}", err=True)


@cli.command("new-profile")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def new_profile(path: Path, force: bool) -> None:
    """Write a commented example profile (published test keys) to PATH."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists (use --force to overwrite)")
    path.write_text(SAMPLE_PROFILE, encoding="utf-8")
    click.echo(f"wrote {path}; the meter's state will be kept in {state_path_for(path)}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the command, turn stsvend errors into a message and status 1."""
    try:
        cli.main(args=argv, prog_name="stsvend-keypad", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except StsError as err:
        click.echo(f"error ({err.code}): {err.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
