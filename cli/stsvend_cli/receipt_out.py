"""Where a receipt goes: the terminal always, and on request a thermal printer and a PDF.

Every command that hands out a receipt takes ``--print escpos:PATH`` (or ``STSVEND_PRINTER``)
and ``--pdf PATH``.  Both are checked before anything is issued: a malformed target is exit 3;
a missing ``print`` extra, a printer that is not there (its device missing) or cannot be
written, or a PDF folder that cannot be written is exit 8; and nothing is sold.  Once the sale
is committed the receipt is printed; if the printer or the file then fails, the sale stands:
the clerk is told it was recorded and to reprint it, never to sell again
(:class:`ReceiptNotPrinted`, exit 10).

>>> ReceiptNotPrinted("x").code
'receipt_not_printed'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from stsvend.errors import StsError

if TYPE_CHECKING:
    from stsvend.services.receipt_model import SaleReceipt
    from stsvend_cli.receipt_escpos import PrinterTarget

__all__ = [
    "ENV_PRINTER",
    "ENV_PRINTER_WIDTH",
    "Delivery",
    "ReceiptNotPrinted",
    "deliver",
    "receipt_options",
]

ENV_PRINTER = "STSVEND_PRINTER"
ENV_PRINTER_WIDTH = "STSVEND_PRINTER_WIDTH"

F = TypeVar("F", bound=Callable[..., Any])


class ReceiptNotPrinted(StsError):
    """The sale (or reprint) is recorded, but its receipt did not reach the printer or file."""

    code = "receipt_not_printed"
    default_message = "the receipt did not print: reprint it with `stsvend reprint`"


def receipt_options(fn: F) -> F:
    """``--print TARGET`` and ``--pdf PATH`` (the command takes ``printer`` and ``pdf``)."""
    fn = click.option(
        "--pdf", "pdf", default=None, metavar="PATH",
        help="Also write the receipt as a PDF for the customer (mode 0600).",
    )(fn)  # fmt: skip
    return click.option(
        "--print", "printer", default=None, metavar="escpos:PATH", envvar=ENV_PRINTER,
        help=f"Also print the receipt on an ESC/POS printer, e.g. escpos:/dev/usb/lp0 "
             f"(or {ENV_PRINTER}).",
    )(fn)  # fmt: skip


class Delivery:
    """The checked ``--print`` and ``--pdf`` of one command, ready before anything is issued."""

    def __init__(self, printer: str | None, pdf: str | None) -> None:
        from stsvend.config import ConfigError
        from stsvend.files import OutputFileError

        self.target: PrinterTarget | None = None
        self.pdf = None if pdf is None else Path(pdf)
        self.width = 48
        if printer:
            from stsvend_cli.receipt_escpos import PAPER_WIDTH, check_target, parse_target

            self.target = parse_target(printer)
            self.width = _width(os.environ.get(ENV_PRINTER_WIDTH), PAPER_WIDTH)
            _needs("escpos", ConfigError)
            check_target(self.target)
        if self.pdf is not None:
            _needs("fpdf", ConfigError)
            folder = self.pdf.parent
            if self.pdf.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
                raise OutputFileError(f"cannot write the PDF receipt {self.pdf}: no such "
                                      "writable folder, or it is a folder")  # fmt: skip

    def send(self, result: SaleReceipt, *, reprint: bool = False) -> None:
        """Print and write the receipt of ``result``; raise :class:`ReceiptNotPrinted` naming
        every failure (the other forms are still made)."""
        from stsvend_cli.receipt import build_receipt

        if self.target is None and self.pdf is None:
            return
        receipt = build_receipt(result)
        failed: list[str] = []
        if self.target is not None:
            from stsvend_cli.receipt_escpos import print_escpos

            try:
                print_escpos(receipt, self.target, self.width)
            except OSError as exc:
                failed.append(f"printer {self.target}: {_reason(exc)}")
        if self.pdf is not None:
            from stsvend_cli.receipt_pdf import write_pdf

            try:
                write_pdf(receipt, self.pdf)
            except OSError as exc:
                failed.append(f"PDF {self.pdf}: {_reason(exc)}")
        if failed:
            number = result.receipt
            again = f"`stsvend reprint {number}`"
            what = "; ".join(failed)
            if reprint:
                raise ReceiptNotPrinted(f"the copy of receipt {number} did not print ({what}): "
                                        f"try again with {again}")  # fmt: skip
            raise ReceiptNotPrinted(
                f"sale recorded as receipt {number}; the receipt did not print ({what}): "
                f"reprint it with {again}. Do not sell again: the token is issued"
            )


def deliver(delivery: Delivery, result: SaleReceipt, as_json: bool, *,
            reprint: bool = False) -> None:  # fmt: skip
    """Show ``result`` (its receipt, or its document as JSON), then print and write it as
    asked."""
    from stsvend.services.results import as_doc
    from stsvend_cli.common import emit
    from stsvend_cli.receipt import print_receipt

    emit(as_doc(result) if as_json else result, as_json, print_receipt)
    delivery.send(result, reprint=reprint)


def _reason(exc: OSError) -> str:
    return exc.strerror or " ".join(str(exc).split()) or type(exc).__name__


def _width(text: str | None, default: int) -> int:
    from stsvend.config import ConfigError
    from stsvend.plaintext import parse_whole

    if text is None or text == "":
        return default
    try:
        return parse_whole(text, ENV_PRINTER_WIDTH, 24, 80)
    except StsError as exc:
        raise ConfigError(exc.message) from None


def _needs(module: str, error: type[StsError]) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise error(f"printing receipts needs the print extra: pip install 'stsvend[print]' "
                    f"(missing {module})")  # fmt: skip
