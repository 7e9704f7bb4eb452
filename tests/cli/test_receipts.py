"""Receipts in every form: the terminal, ESC/POS bytes for a thermal printer, and the PDF.

The three are drawn from one model; these tests hold that every line of the model is in each
form (the legal content cannot diverge), that a reprint says COPY everywhere, that a TEST store
says TEST everywhere, that key change tokens come before the credit token, and that a printer
failing after the sale leaves the sale recorded with a message to reprint, never to sell again.
"""

from __future__ import annotations

import doctest
import importlib
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli, M

pypdf = pytest.importorskip("pypdf")


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder on disk for each test here (and its installation): the program takes a printer
    path under ``/dev/`` for a device that must exist, and the suite's temporary folders may be
    on ``/dev/shm`` (tests/conftest.py); these tests print to files."""
    with tempfile.TemporaryDirectory(prefix="stsvend-receipts-") as folder:
        yield Path(folder)


def _squash(text: str) -> str:
    # Whitespace and the terminal panel's border go: lines may wrap differently in each form.
    return "".join(text.replace("│", " ").split())


def _pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def _escpos_text(path: Path) -> str:
    """The text a printer would print, following the code page switches (ESC t n) that
    python-escpos makes for characters such as ³; control sequences stay in."""
    from escpos.capabilities import get_profile

    pages = get_profile("default").codePages
    data, out, codec, i = path.read_bytes(), [], "cp437", 0
    while i < len(data):
        if data[i : i + 2] == b"\x1bt":
            name = str(pages.get(str(data[i + 2]), "cp437")).lower()
            codec = "cp437" if name == "unknown" else name
            i += 3
            continue
        out.append(bytes([data[i]]).decode(codec, "replace"))
        i += 1
    return "".join(out)


def _model_texts(result: dict[str, Any]) -> list[str]:
    from stsvend.services.receipt_codec import decode
    from stsvend_cli.receipt import build_receipt

    receipt = build_receipt(decode(result))  # `--json` reads as a stored answer of version 1
    return [t for line in receipt.lines for t in (line.text, line.right) if t]


def _sales(cli: Cli) -> int:
    return int(cli.sql("SELECT count(*) FROM sale")[0][0])


def _forms(cli: Cli, tmp_path: Path, *args: str, role: str = "clerk") -> tuple[Any, str, str, str]:
    """Run a receipt command with --print and --pdf: (JSON result, terminal, ESC/POS, PDF)."""
    printer, pdf = tmp_path / "lp0", tmp_path / "receipt.pdf"
    options = ("--print", f"escpos:{printer}", "--pdf", str(pdf))
    result = cli.json(*args, *options, role=role)
    number = str(result["receipt"])
    terminal = cli.ok("reprint", number, role="supervisor") if "copy" not in result else ""
    return result, terminal, _escpos_text(printer), _pdf_text(pdf)


def _every_line_in(result: dict[str, Any], *forms: str) -> None:
    for text in _model_texts(result):
        for form in forms:
            assert _squash(text) in _squash(form), (text, form[:2000])


def test_a_credit_vend_prints_the_same_receipt_on_paper_and_in_the_pdf(
    cli: Cli, tmp_path: Path
) -> None:
    printer, pdf = tmp_path / "lp0", tmp_path / "sale.pdf"
    shown = cli.ok("vend", M[2], "1234.5", "--print", f"escpos:{printer}", "--pdf", str(pdf),
                   role="clerk")  # fmt: skip
    result = cli.json("reprint", "3", role="supervisor")
    raw = printer.read_bytes()
    paper, text = _escpos_text(printer), _pdf_text(pdf)
    result_original = {**result, "copy": False}
    _every_line_in(result_original, shown, paper, text)
    token = result["tokens"][-1]["digits"]
    grouped = " ".join(token[i : i + 4] for i in range(0, 20, 4))
    for form in (shown, paper, text):
        assert grouped in form
        assert "ZAR 1,234.50" in form and "VAT included (15%)" in form
        assert "Tax number: VAT-4012345678" in form and "City Power" in form
        assert "at ZAR 2.00/kWh" in form and "617.2 kWh" in form
        assert "*** TEST ***" in form
        assert "COPY" not in form
    assert raw.rstrip(b"\n").endswith(b"\x1dV\x00")  # the paper is cut
    assert b"\x1bE\x01" in raw  # bold marks and tokens
    assert pdf.stat().st_mode & 0o077 == 0  # it holds token digits
    for bad in ("True", "None", "{", "bp", ".000000"):
        assert bad not in shown and bad not in text


def test_a_reprint_is_marked_copy_in_every_form(cli: Cli, tmp_path: Path) -> None:
    printer, pdf = tmp_path / "lp0", tmp_path / "copy.pdf"
    shown = cli.ok("reprint", "1", "--print", f"escpos:{printer}", "--pdf", str(pdf),
                   role="supervisor")  # fmt: skip
    result = cli.json("reprint", "1", role="supervisor")
    paper, text = _escpos_text(printer), _pdf_text(pdf)
    _every_line_in(result, shown, paper, text)
    for form in (shown, paper, text):
        assert form.count("*** COPY ***") == 2  # at the top and at the foot
    reader = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()))
    assert reader.metadata is not None and "COPY" in str(reader.metadata.title)


def test_a_key_change_first_sale_prints_its_key_change_tokens_first(
    cli: Cli, tmp_path: Path
) -> None:
    result, _, paper, text = _forms(cli, tmp_path, "vend", M[4], "30")
    kinds = [t["purpose"] for t in result["tokens"]]
    assert kinds == ["key_change", "key_change", "sale"]
    groups = [" ".join(t["digits"][i : i + 4] for i in range(0, 20, 4)) for t in result["tokens"]]
    for form in (paper, text):
        places = [form.index(g) for g in groups]
        assert places == sorted(places)
        assert "Enter the key change tokens first" in " ".join(form.split())
    _every_line_in(result, paper, text)


def test_a_test_token_receipt_is_marked_test_everywhere(cli: Cli, tmp_path: Path) -> None:
    result, _, paper, text = _forms(cli, tmp_path, "test-token", "9")
    assert result["test"] is True
    for form in (paper, text):
        assert form.count("*** TEST ***") == 2
        assert "TEST TOKEN" in form
    _every_line_in(result, paper, text)


def test_a_water_meter_receipt_counts_cubic_metres(cli: Cli, tmp_path: Path) -> None:
    cli.ok("tariffs", "add", "WAT", "--name", "Water", "--price", "12.5", "--resource", "water",
           "--tax", "15")  # fmt: skip
    cli.ok("meters", "add", M[7], "--sgc", "123456", "--resource", "water")
    cli.ok("customers", "open-account", "--customer", "C-7", "--contract", "K-7", "--meter",
           M[7], "--tariff", "WAT")  # fmt: skip
    _, _, paper, text = _forms(cli, tmp_path, "vend", M[7], "25")
    for form in (paper, text):
        assert "2.0 m³" in form and "at ZAR 12.50/m³" in form and "kWh" not in form


def test_a_printer_failing_after_the_sale_says_reprint_never_sell_again(
    cli: Cli, tmp_path: Path
) -> None:
    before = _sales(cli)
    # /dev/full opens and then fails every write, as a printer out of paper or unplugged
    # mid-receipt does.
    proc = cli.run("vend", M[2], "50", "--print", "escpos:/dev/full", role="clerk")
    assert proc.returncode == 10, proc.stderr
    assert _sales(cli) == before + 1  # the sale stands
    assert "sale recorded as receipt 3" in proc.stderr
    assert "reprint it with `stsvend reprint 3`" in proc.stderr
    assert "Do not sell again" in proc.stderr
    assert "Credit 25.0 kWh" in proc.stdout  # the terminal still shows the receipt
    # The reprint the message asks for works, and marks the copy.
    printer = tmp_path / "lp0"
    cli.ok("reprint", "3", "--print", f"escpos:{printer}", role="clerk")
    assert "*** COPY ***" in _escpos_text(printer)


def test_a_reprint_failing_to_print_says_to_try_again(cli: Cli, tmp_path: Path) -> None:
    proc = cli.run("reprint", "1", "--print", "escpos:/dev/full", role="supervisor")
    assert proc.returncode == 10
    assert "the copy of receipt 1 did not print" in proc.stderr
    assert "stsvend reprint 1" in proc.stderr and "sale recorded" not in proc.stderr


def test_the_printer_from_the_environment(cli: Cli, tmp_path: Path) -> None:
    printer = tmp_path / "lp0"
    cli.ok("reprint", "1", role="supervisor", STSVEND_PRINTER=f"escpos:{printer}",
           STSVEND_PRINTER_WIDTH="32")  # fmt: skip
    paper = _escpos_text(printer)
    assert "*** COPY ***" in paper
    # 32 columns: no plain line is longer (a pair's amount moves to a line of its own).
    plain = [x for x in paper.split("\n") if "\x1b" not in x and "\x1d" not in x]
    assert plain and max(len(x) for x in plain) <= 32


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        (("--print", "lp0"), 3, "--print takes escpos:PATH"),
        (("--print", "cups:office"), 3, "--print takes escpos:PATH"),
        (("--pdf", "/no/such/folder/r.pdf"), 8, "cannot write the PDF receipt"),
        (("--print", "escpos:/dev/usb/no-such-lp9"), 8, "not found (is it plugged in"),
        (("--print", "escpos:/no/such/folder/lp0"), 8, "nothing was sold"),
        (("--print", "escpos:/tmp"), 8, "cannot be written to"),
    ],
)
def test_a_bad_receipt_target_is_refused_before_anything_is_sold(
    cli: Cli, tmp_path: Path, options: tuple[str, ...], code: int, message: str
) -> None:
    before = _sales(cli)
    proc = cli.run("vend", M[2], "50", *options, role="clerk")
    assert proc.returncode == code, proc.stderr
    assert message in proc.stderr
    assert _sales(cli) == before


def test_a_bad_printer_width_is_a_configuration_error(cli: Cli, tmp_path: Path) -> None:
    before = _sales(cli)
    proc = cli.run("vend", M[2], "50", "--print", f"escpos:{tmp_path}/lp0", role="clerk",
                   STSVEND_PRINTER_WIDTH="12")  # fmt: skip
    assert proc.returncode == 8 and "STSVEND_PRINTER_WIDTH" in proc.stderr
    assert _sales(cli) == before


def test_closing_an_account_with_arrears_warns(cli: Cli) -> None:
    cli.ok("customers", "open-account", "--customer", "C-5", "--contract", "K-5", "--meter",
           M[5], "--tariff", "FLAT", "--debt", "120.5", "--recovery", "10")  # fmt: skip
    proc = cli.run("customers", "close-account", "K-5", role="supervisor")
    assert proc.returncode == 0
    assert "warning:" in proc.stderr and "ZAR 120.50" in proc.stderr
    quiet = cli.run("customers", "close-account", "K-2", role="supervisor")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_cancelling_a_key_change_whose_tokens_were_handed_out_warns(cli: Cli) -> None:
    proc = cli.run("key-change", "cancel", M[4], "--reason", "wrong target", role="engineer")
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "already handed out" in proc.stderr
    cli.ok("key-change", "meter", M[2], "--krn", "2", role="engineer")  # pending: not handed out
    quiet = cli.run("key-change", "cancel", M[2], "--reason", "wrong target", role="engineer")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_help_explains_clear_credit_and_test_token_values(cli: Cli) -> None:
    engineering = cli.ok("engineering", "--help", role=None)
    assert "clear-credit" in engineering and "65535" in engineering
    assert "0 electricity" in engineering
    test_token = cli.ok("test-token", "--help", role=None)
    assert "1 test all" in test_token and "8 display total energy" in test_token
    encode = cli.ok("token", "encode", "--help", role=None)
    assert "1 test/display" in encode and "control=" in encode


@pytest.mark.parametrize(
    "name",
    ["stsvend_cli.human", "stsvend_cli.receipt", "stsvend_cli.receipt_escpos",
     "stsvend_cli.receipt_pdf", "stsvend_cli.receipt_out", "stsvend_cli.registry_views"],
)  # fmt: skip
def test_receipt_modules_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
    for symbol in module.__all__:
        assert hasattr(module, symbol)
