"""The ``stsvend`` command: a root group whose subcommands load on first use.

Every error a user can cause arrives here as an :class:`~stsvend.errors.StsError` and leaves as
one line on standard error and a documented exit code (see :mod:`stsvend_cli.exit_codes`); no
traceback reaches the user.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from stsvend.errors import StsError
from stsvend_cli.exit_codes import EXIT_INTERNAL, exit_code_for
from stsvend_cli.registry import COMMANDS

__all__ = ["cli", "main", "run"]

_BUILTIN: dict[str, str] = {
    "token": "stsvend_cli.tester:token",
    "key": "stsvend_cli.tester:key",
    "demo": "stsvend_cli.demo:demo",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when they are run or listed."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, lazy={**_BUILTIN, **COMMANDS})
@click.version_option(package_name="stsvend")
def cli() -> None:
    """stsvend: STS (IEC 62055-41) prepayment token vending."""


def run(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: the process's arguments) and return its exit code.

    Every error becomes one line on standard error and a documented exit code; nothing is
    kept between runs, so a caller (a test, an embedding program) may run it many times in one
    process.
    """
    try:
        code = cli.main(args=argv, prog_name="stsvend", standalone_mode=False)
    except StsError as exc:
        click.echo(f"error: {exc.message}", err=True)
        return exit_code_for(exc.code)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 1
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: say so without a traceback
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (this is a bug in stsvend)", err=True
        )
        return EXIT_INTERNAL
    return code if isinstance(code, int) else 0


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the CLI and exit with its code."""
    sys.exit(run(argv))


if __name__ == "__main__":  # pragma: no cover
    main()
