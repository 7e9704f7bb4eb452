"""``stsvend vend … --server URL``: a sale through a sale-point server (docs/client.md).

The clerk's machine holds no keys and no store: the server sells, at the terminal whose key
this machine holds, and its answer is the receipt a local sale prints (the same renderers, on
the terminal, the printer and as a PDF).  The terminal key never comes from the command line,
where it would end up in shell history and in the process list: ``STSVEND_TERMINAL_KEY``, or
the file the ``terminal_key_file`` setting names (mode 0600).

An operator named (``--operator`` or ``STSVEND_OPERATOR``) is logged in on the server with
their PIN (``STSVEND_PIN``, or the variable ``--pin-env`` names, else a hidden prompt; a PIN to
replace from ``STSVEND_NEW_PIN`` or a prompt, as a local login takes it), so the sale is theirs,
in their role and shift at the terminal; they are logged out when the command ends.  With no
operator named, the sale is the terminal's own.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from stsvend.client import SalePointClient
    from stsvend.config import Config
    from stsvend.services.receipt_model import SaleReceipt
    from stsvend_cli.receipt_out import Delivery

__all__ = ["ENV_TERMINAL_KEY", "OUTBOX_FILE", "log_in", "open_client", "remote_reprint",
           "remote_vend", "terminal_key"]

ENV_TERMINAL_KEY = "STSVEND_TERMINAL_KEY"
#: The advices still to send, in the data directory.
OUTBOX_FILE = "client-outbox.sqlite3"


def terminal_key(config: Config) -> str:
    """The terminal's key: ``STSVEND_TERMINAL_KEY``, else the ``terminal_key_file`` (a file
    open to group or others is refused, as a KEK file is)."""
    from stsvend.config import ConfigError

    key = os.environ.get(ENV_TERMINAL_KEY, "").strip()
    if key:
        return key
    if not config.terminal_key_file:
        raise ConfigError(f"no terminal key: set {ENV_TERMINAL_KEY}, or terminal_key_file "
                          "to a file holding it (mode 0600)")  # fmt: skip
    path = Path(config.terminal_key_file).expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"terminal_key_file: cannot read {path}: {reason}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"terminal_key_file {path} is open to group or others "
                          f"(mode {stat.S_IMODE(mode):04o}); make it 0600")  # fmt: skip
    return text.strip()


def open_client(server: str, config: Config) -> SalePointClient:
    """A client of ``server`` with this machine's key, TLS settings and outbox."""
    from stsvend.client import SalePointClient

    key = terminal_key(config)
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert = (config.client_cert, config.client_key) if config.client_cert else None
    return SalePointClient(server, key, verify=config.server_ca or True, cert=cert,
                           outbox=config.data_dir / OUTBOX_FILE)  # fmt: skip


def log_in(api: SalePointClient, operator: str, pin_env: str) -> None:
    """Log ``operator`` in on the server with their PIN; a PIN set by an admin is replaced on
    the way (``STSVEND_NEW_PIN`` or a prompt), as a local login does."""
    from stsvend.client import ServerRefused
    from stsvend_cli.common import ENV_NEW_PIN, read_new_pin, read_pin

    pin = read_pin(pin_env)
    try:
        api.login(operator, pin)
    except ServerRefused as exc:
        if exc.code != "pin_change_required":
            raise
        new_pin = read_new_pin(ENV_NEW_PIN)
        if new_pin is None:
            hint = f"give it in {ENV_NEW_PIN} or run the command at a terminal"
            raise ServerRefused(exc.code, exc.status, f"{exc.detail}: {hint}",
                                exc.problem) from None  # fmt: skip
        api.login(operator, pin, new_pin=new_pin)


def remote_vend(server: str, drn: str, amount: str, request_id: str | None,
                printer: str | None, pdf: str | None, as_json: bool,
                operator: str | None, pin_env: str) -> None:  # fmt: skip
    """Sell through ``server`` (as ``operator`` if named, logged in for the sale), show the
    receipt (or its document), confirm it, print it."""
    from stsvend.client import OutcomeUnknown, new_purchase_id
    from stsvend.errors import StsError
    from stsvend_cli.common import emit, load_config
    from stsvend_cli.receipt import print_receipt
    from stsvend_cli.receipt_out import Delivery

    config = load_config()
    out = Delivery(printer, pdf)  # a wrong printer or PDF is refused before anything is sold
    pid = request_id or new_purchase_id()
    with open_client(server, config) as api:
        if operator:
            log_in(api, operator, pin_env)
        try:
            try:
                bought = api.purchase(drn, amount, purchase_id=pid)
            except OutcomeUnknown as exc:
                raise OutcomeUnknown(pid, (
                    f"the server did not answer: the sale may or may not have been made. Do not "
                    f"sell again under a new id: run `stsvend vend {drn} {amount} --server "
                    f"{server} --request-id {pid}` for its receipt (never sold twice under one id)"
                )) from exc  # fmt: skip
            emit(bought.raw if as_json else bought.receipt, as_json, print_receipt)
            try:
                api.confirm(bought.purchase_id)
            except StsError as exc:  # the sale stands; the outbox keeps the advice if it can
                click.echo(f"note: the server did not take the confirmation: {exc.message}",
                           err=True)  # fmt: skip
        finally:
            if operator:
                _log_out(api)
    _send(out, bought.receipt, server, reprint=False)


def _log_out(api: SalePointClient) -> None:
    """End the operator's session; failing to, the sale stands (the session times out)."""
    from stsvend.errors import StsError

    try:
        api.logout()
    except StsError as exc:
        click.echo(f"note: the server did not take the logout: {exc.message}", err=True)


def remote_reprint(server: str, receipt: str, printer: str | None, pdf: str | None,
                   as_json: bool) -> None:  # fmt: skip
    """A copy of ``receipt`` (a number, or ``last``) from ``server``, shown and printed."""
    from stsvend.plaintext import parse_whole
    from stsvend_cli.common import emit, load_config
    from stsvend_cli.receipt import print_receipt
    from stsvend_cli.receipt_out import Delivery

    number = None if receipt == "last" else parse_whole(receipt, "RECEIPT", 1, 10**18 - 1)
    config = load_config()
    out = Delivery(printer, pdf)
    with open_client(server, config) as api:
        copy = api.reprint(number)
    emit(copy.raw if as_json else copy.receipt, as_json, print_receipt)
    _send(out, copy.receipt, server, reprint=True)


def _send(out: Delivery, receipt: SaleReceipt, server: str, *, reprint: bool) -> None:
    """Print and write the receipt; a failure says to reprint it from the server."""
    from stsvend_cli.receipt_out import ReceiptNotPrinted

    try:
        out.send(receipt, reprint=reprint)
    except ReceiptNotPrinted as exc:
        raise ReceiptNotPrinted(f"{exc.message} (reprint with --server {server})") from None
