"""The receipt as a PDF the customer keeps (fpdf2, the ``print`` extra).

The lines are :class:`~stsvend_cli.receipt.Receipt`'s, one A5 page (more if a receipt is
long): marks (TEST, COPY) in white on red, tokens large in a fixed-width font, amounts aligned
right.  The PDF's title says the receipt number and COPY.  The standard PDF fonts cover
Latin-1 only: a character outside it prints as ``?``.

>>> from stsvend.services.receipt_model import SaleReceipt
>>> from stsvend_cli.receipt import build_receipt
>>> data = pdf_bytes(build_receipt(SaleReceipt("test", "r-3", "", "", "ann", "T1", True, "U",
...     "T", None, receipt=3)))
>>> data[:5]
b'%PDF-'
"""

from __future__ import annotations

from pathlib import Path

from stsvend_cli.receipt import Receipt

__all__ = ["pdf_bytes", "write_pdf"]

_RED = (176, 0, 32)
_FONTS = {
    "mark": ("Helvetica", "B", 15),
    "notice": ("Helvetica", "I", 8),
    "heading": ("Helvetica", "B", 15),
    "title": ("Helvetica", "B", 12),
    "label": ("Helvetica", "", 10),
    "token": ("Courier", "B", 16),
    "note": ("Helvetica", "I", 9),
}
_PLAIN = ("Helvetica", "", 10)


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def pdf_bytes(receipt: Receipt) -> bytes:
    """The PDF of ``receipt``."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(format=(148, 210))  # A5, in millimetres
    pdf.set_margins(12, 12, 12)
    pdf.set_auto_page_break(True, margin=12)
    copy = " (COPY)" if receipt.copy else ""
    pdf.set_title(_latin1(f"{receipt.title.title()} receipt {receipt.number}{copy}"))
    pdf.set_creator("stsvend")
    pdf.add_page()
    width = pdf.epw
    nx, ny = XPos.LMARGIN, YPos.NEXT  # each line starts below the last, at the margin
    for line in receipt.lines:
        family, style, size = _FONTS.get(line.style, _PLAIN)
        pdf.set_font(family, style, size)
        text = _latin1(line.text)
        if line.style == "mark":
            pdf.set_fill_color(*_RED)
            pdf.set_text_color(255, 255, 255)
            pdf.cell(width, 9, text, align="C", fill=True, new_x=nx, new_y=ny)
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1)
        elif line.style == "notice":
            pdf.set_text_color(*_RED)
            pdf.multi_cell(width, 4, text, align="C", new_x=nx, new_y=ny)
            pdf.set_text_color(0, 0, 0)
        elif line.style in ("heading", "title"):
            pdf.multi_cell(width, 7, text, align="C", new_x=nx, new_y=ny)
        elif line.style == "pair":
            right = _latin1(line.right)
            amount = pdf.get_string_width(right) + 2
            y = pdf.get_y()
            pdf.multi_cell(width - amount - 2, 5, text, new_x=nx, new_y=ny)
            after = pdf.get_y()
            pdf.set_xy(pdf.l_margin + width - amount, y)
            pdf.cell(amount, 5, right, align="R")
            pdf.set_xy(pdf.l_margin, max(after, y + 5))
        elif line.style == "rule":
            y = pdf.get_y() + 1.5
            pdf.line(pdf.l_margin, y, pdf.l_margin + width, y)
            pdf.ln(3)
        elif line.style == "token":
            pdf.cell(width, 9, text, align="C", new_x=nx, new_y=ny)
        else:
            pdf.multi_cell(width, 5, text, new_x=nx, new_y=ny)
    return bytes(pdf.output())


def write_pdf(receipt: Receipt, path: str | Path) -> None:
    """Write the PDF of ``receipt`` to ``path`` (0600: it holds token digits; whole or not at
    all); any failure raises ``OSError``."""
    import os
    import tempfile

    data = pdf_bytes(receipt)
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".receipt-", suffix=".pdf", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
