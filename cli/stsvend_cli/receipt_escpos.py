"""The receipt on an ESC/POS thermal printer (python-escpos, the ``print`` extra).

A printer is named by a target: ``escpos:PATH`` sends ESC/POS to a device node or file (a USB
printer's ``/dev/usb/lp0``, a serial port set up beforehand, or a file to inspect).  The lines
are :class:`~stsvend_cli.receipt.Receipt`'s, at the printer's width; marks (TEST, COPY) print
inverted and double size, tokens bold and double height, and the paper is cut at the end.

>>> from stsvend.services.receipt_codec import decode
>>> from stsvend_cli.receipt import build_receipt
>>> data = escpos_bytes(build_receipt(decode({"kind": "test", "request_id": "r-3",
...     "receipt": 3, "test": True, "utility": "U", "tax_number": "T", "at": "", "local_time": "",
...     "operator": "ann", "terminal": "T1", "meter": None, "tokens": [{"label": "Test token",
...     "digits": "12345678901234567890", "class": 1, "subclass": 0, "purpose": "test"}]})))
>>> b"1234 5678 9012 3456 7890" in data, data.endswith(b"\\x1dV\\x00")
(True, True)
"""

from __future__ import annotations

import contextlib
from typing import Any

from attrs import frozen

from stsvend.errors import InputError
from stsvend_cli.receipt import Receipt, wrap_line

__all__ = [
    "PAPER_WIDTH",
    "PrinterTarget",
    "check_target",
    "escpos_bytes",
    "parse_target",
    "print_escpos",
]

#: Characters per line in font A on 80 mm paper (58 mm printers: 32; set STSVEND_PRINTER_WIDTH).
PAPER_WIDTH = 48

_SCHEMES = ("escpos",)


@frozen
class PrinterTarget:
    """Where a receipt is printed: the scheme and its device or file path."""

    scheme: str
    path: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.path}"


def parse_target(text: str) -> PrinterTarget:
    """Read ``--print``'s value.

    >>> parse_target("escpos:/dev/usb/lp0")
    PrinterTarget(scheme='escpos', path='/dev/usb/lp0')
    >>> parse_target("lp0")
    Traceback (most recent call last):
    ...
    stsvend.errors.InputError: --print takes escpos:PATH (a device such as /dev/usb/lp0, ...
    """
    scheme, sep, path = str(text).partition(":")
    if not sep or scheme not in _SCHEMES or not path.strip():
        raise InputError(
            f"--print takes escpos:PATH (a device such as /dev/usb/lp0, or a file), got {text!r}"
        )
    return PrinterTarget(scheme, path)


def check_target(target: PrinterTarget) -> None:
    """Refuse, before anything is sold, a printer that is not there: a device node missing
    (unplugged, switched off) or a path that cannot be written.

    >>> check_target(PrinterTarget("escpos", "/dev/usb/no-such-lp9"))
    Traceback (most recent call last):
    ...
    stsvend.files.OutputFileError: printer escpos:/dev/usb/no-such-lp9 not found (is it ...
    """
    import os
    from pathlib import Path

    from stsvend.files import OutputFileError

    path = Path(target.path)
    if path.exists():
        if path.is_dir() or not os.access(path, os.W_OK):
            raise OutputFileError(f"printer {target} cannot be written to (a folder, or no "
                                  "permission: is this user in the printer's group?)")  # fmt: skip
        return
    folder = path.parent
    if str(path).startswith("/dev/") or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise OutputFileError(f"printer {target} not found (is it plugged in and switched "
                              "on?): nothing was sold")  # fmt: skip


def _render(printer: Any, receipt: Receipt, width: int) -> None:
    for line in receipt.lines:
        if line.style == "mark":
            printer.set(align="center", bold=True, invert=True, double_width=True,
                        double_height=True)  # fmt: skip
            printer.text(f" {line.text} \n")
            printer.set(normal_textsize=True, bold=False, invert=False, align="left")
        elif line.style in ("heading", "title"):
            printer.set(align="center", bold=True)
            for row in wrap_line(line, width):
                printer.text(row.strip() + "\n")
            printer.set(align="left", bold=False)
        elif line.style == "token":
            # Double size where the 24 characters fit twice over (80 mm paper); double height
            # alone on narrower paper.
            wide = 2 * len(line.text) <= width
            printer.set(align="center", bold=True, double_height=True, double_width=wide)
            printer.text(line.text + "\n")
            printer.set(normal_textsize=True, bold=False, align="left")
        else:
            for row in wrap_line(line, width):
                printer.text(row + "\n")
    printer.cut()


def escpos_bytes(receipt: Receipt, width: int = PAPER_WIDTH) -> bytes:
    """The ESC/POS bytes of ``receipt`` (python-escpos's dummy printer)."""
    from escpos.printer import Dummy

    printer = Dummy()
    _render(printer, receipt, width)
    data: bytes = printer.output
    return data


def print_escpos(receipt: Receipt, target: PrinterTarget, width: int = PAPER_WIDTH) -> None:
    """Print ``receipt`` on the printer at ``target``; any failure raises ``OSError`` (the
    caller says what to do about it)."""
    from escpos.printer import File

    data = escpos_bytes(receipt, width)
    printer = File(devfile=target.path, auto_flush=True)
    try:
        printer.open(raise_not_found=True)
        printer._raw(data)
        printer.flush()
    except OSError:
        raise
    except Exception as exc:  # python-escpos's own (device not found, …)
        raise OSError(" ".join(str(exc).split()) or type(exc).__name__) from None
    finally:
        with contextlib.suppress(Exception):  # closing a printer that failed to open
            printer.close()
