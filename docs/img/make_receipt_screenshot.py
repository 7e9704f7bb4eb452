"""Regenerate ``receipt-pdf.png`` and ``receipt-escpos.png``: a demo sale's receipt, as the
PDF the customer keeps and as the thermal printer prints it.

Run from the repository root (needs the ``print`` and ``dev`` extras, and ``pdftoppm`` from
poppler-utils)::

    python docs/img/make_receipt_screenshot.py

The sale is ``stsvend demo`` in a scratch folder (TEST keys, a commissioning key change first,
two tariff blocks).  The PDF is rendered by ``pdftoppm``; the ESC/POS bytes are sent to
python-escpos's file printer and drawn with Pillow from the text between the control codes
(bold, double height or width, inverted and centred as the codes say), so the picture is what
the printer receives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from stsvend.services.receipt_codec import decode
from stsvend.services.receipt_model import SaleReceipt
from stsvend_cli.receipt import build_receipt
from stsvend_cli.receipt_escpos import PAPER_WIDTH, PrinterTarget, print_escpos
from stsvend_cli.receipt_pdf import write_pdf

HERE = Path(__file__).parent
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"


def demo_sale(folder: Path) -> SaleReceipt:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")},
        "STSVEND_DATA_DIR": str(folder / "data"),
        "STSVEND_UTILITY_NAME": "City Power",
        "STSVEND_TAX_NUMBER": "VAT-4012345678",
        "STSVEND_CURRENCY": "ZAR",
        "STSVEND_TIMEZONE": "Africa/Johannesburg",
        "STSVEND_TERMINAL": "COUNTER-1",
    }
    out = subprocess.run(
        [sys.executable, "-m", "stsvend_cli", "demo", "--amount", "150", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    # The demo's `--json` has the sale's answer as its document (the keys of a stored answer).
    return decode(json.loads(out.stdout)["receipt"])


@dataclass
class Run:
    """One printed line and how the printer prints it."""

    text: str = ""
    bold: bool = False
    tall: bool = False
    wide: bool = False
    inverted: bool = False
    centred: bool = False


def paper_lines(data: bytes) -> list[Run]:
    """The printed lines, following the ESC/POS codes python-escpos sends: ESC t (code page),
    ESC E (bold), ESC ! (double height 0x10, double width 0x20), GS B (inverted), ESC a
    (alignment), LF; other sequences (cut, feed) are skipped."""
    from escpos.capabilities import get_profile

    pages = get_profile("default").codePages
    lines: list[Run] = []
    state, line, codec, i = Run(), Run(), "cp437", 0
    while i < len(data):
        pair = data[i : i + 2]
        if pair == b"\x1bt":
            name = str(pages.get(str(data[i + 2]), "cp437")).lower()
            codec = "cp437" if name == "unknown" else name
        elif pair == b"\x1bE":
            state.bold = bool(data[i + 2])
        elif pair == b"\x1b!":
            state.tall, state.wide = bool(data[i + 2] & 0x10), bool(data[i + 2] & 0x20)
        elif pair == b"\x1dB":
            state.inverted = bool(data[i + 2])
        elif pair == b"\x1ba":
            state.centred = data[i + 2] == 1
        elif data[i] in (0x1B, 0x1D):
            pass
        elif data[i] == 0x0A:
            lines.append(line)
            line = Run()
            i += 1
            continue
        else:
            if not line.text:
                line = Run("", state.bold, state.tall, state.wide, state.inverted, state.centred)
            line.text += bytes([data[i]]).decode(codec, "replace")
            i += 1
            continue
        i += 3
    return lines


def draw_paper(lines: list[Run], target: Path) -> None:
    size, margin = 20, 30
    regular, bold = ImageFont.truetype(FONT, size), ImageFont.truetype(FONT_BOLD, size)
    cell, row = int(regular.getlength("M")), size + 6
    width = cell * PAPER_WIDTH + 2 * margin
    height = 2 * margin + sum(row * (2 if r.tall else 1) for r in lines)
    paper = Image.new("RGB", (width, height), (250, 250, 245))
    y = margin
    for run in lines:
        font = bold if run.bold else regular
        paper_white, black = (250, 250, 245), (20, 20, 20)
        ink, ground = (paper_white, black) if run.inverted else (black, paper_white)
        strip = Image.new("RGB", (max(1, int(font.getlength(run.text))), row), ground)
        ImageDraw.Draw(strip).text((0, 2), run.text, font=font, fill=ink)
        strip = strip.resize((strip.width * (2 if run.wide else 1), row * (2 if run.tall else 1)))
        x = (width - strip.width) // 2 if run.centred else margin
        paper.paste(strip, (x, y))
        y += strip.height
    paper.save(target)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        receipt = build_receipt(demo_sale(folder))
        pdf = folder / "receipt.pdf"
        write_pdf(receipt, pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf), str(HERE / "receipt-pdf")],
            check=True,
        )
        printer = folder / "lp0"
        print_escpos(receipt, PrinterTarget("escpos", str(printer)))
        draw_paper(paper_lines(printer.read_bytes()), HERE / "receipt-escpos.png")
    print(f"wrote {HERE / 'receipt-pdf.png'} and {HERE / 'receipt-escpos.png'}")


if __name__ == "__main__":
    main()
