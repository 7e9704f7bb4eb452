"""Regenerate ``keypad-panel.png``: run the keypad simulator in tmux, capture, draw with Pillow.

Run from the repository root (needs tmux, and Pillow — a dev-only dependency)::

    python docs/img/make_keypad_screenshot.py

The app runs on the sample profile in a scratch folder; keys are sent with ``tmux send-keys``
and the pane (with its colours) is read with ``tmux capture-pane -e``.  The ANSI text is parsed
with rich and painted cell by cell in DejaVu Sans Mono, so the picture is what the terminal
showed.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from rich.color import Color
from rich.style import Style
from rich.terminal_theme import MONOKAI
from rich.text import Text

from stsvend import sts
from stsvend_keypad.profiles import SAMPLE_PROFILE

OUT = Path(__file__).with_name("keypad-panel.png")
COLS, ROWS = 104, 19
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
FONT_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BACKGROUND = (
    MONOKAI.background_color.red,
    MONOKAI.background_color.green,
    MONOKAI.background_color.blue,
)
FOREGROUND = (
    MONOKAI.foreground_color.red,
    MONOKAI.foreground_color.green,
    MONOKAI.foreground_color.blue,
)


def tokens() -> tuple[str, tuple[str, ...]]:
    meter = sts.MeterIdentity.parse(None, "00000000000")
    old = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=2014)
    new = sts.KeyData(sgc=123456, ti=1, krn=2, key_type=2, base_date=2014)
    key = sts.derive_decoder_key(bytes.fromhex("abababababababab"), meter, old)
    new_key = sts.derive_decoder_key(bytes.fromhex("9494949494949494"), meter, new)
    when = datetime(2024, 6, 1, 8, 30, tzinfo=UTC) + timedelta(minutes=1)
    tid = sts.tid_at(when, sts.BaseDate.Y2014)
    credit = sts.credit_token(key, sts.Resource.ELECTRICITY, 250, tid=tid, rnd=5)
    return credit, sts.key_change_tokens(key, new_key, new)


def capture(folder: Path) -> str:
    profile = folder / "meter.toml"
    profile.write_text(SAMPLE_PROFILE, encoding="utf-8")
    socket = f"stsvend-shot-{uuid.uuid4().hex[:8]}"

    def tmux(*args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return out.stdout

    command = [sys.executable, "-m", "stsvend_keypad", "run", str(profile), "--clock", "manual"]
    tmux(
        "new-session",
        "-d",
        "-s",
        "shot",
        "-x",
        str(COLS),
        "-y",
        str(ROWS),
        "env TERM=xterm-256color " + shlex.join(command),
    )
    try:
        credit, (first, _second) = tokens()
        steps = [
            ["-l", "t3600"],
            ["Enter"],
            ["-l", credit],
            ["Enter"],
            ["-l", "l1800"],
            ["Enter"],
            ["-l", first],
            ["Enter"],
            ["-l", "4417 0392 61"],
        ]
        time.sleep(1.5)
        for keys in steps:
            tmux("send-keys", "-t", "shot", *keys)
            time.sleep(0.4)
        time.sleep(1.0)
        return tmux("capture-pane", "-e", "-p", "-t", "shot")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=30)


def rgb(color: Color | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if color is None or color.is_default:
        return default
    triplet = color.get_truecolor(MONOKAI)
    return (triplet.red, triplet.green, triplet.blue)


def render(ansi: str) -> Image.Image:
    font, bold = ImageFont.truetype(FONT, 16), ImageFont.truetype(FONT_BOLD, 16)
    cell_w = round(font.getlength("M"))
    cell_h = 22
    pad = 18
    # Parse the whole pane at once: tmux carries attributes over from one line to the next.
    lines = Text.from_ansi(ansi).split("\n")[:ROWS]
    image = Image.new("RGB", (COLS * cell_w + 2 * pad, len(lines) * cell_h + 2 * pad), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(lines):
        y = pad + row * cell_h
        for col, char in enumerate(text.plain):
            style = style_at(text, col)
            x = pad + col * cell_w
            fg = rgb(style.color, FOREGROUND)
            bg = rgb(style.bgcolor, BACKGROUND)
            if style.dim:
                fg = tuple(int(c * 0.6 + b * 0.4) for c, b in zip(fg, BACKGROUND, strict=True))
            if bg != BACKGROUND:
                draw.rectangle([x, y, x + cell_w, y + cell_h], fill=bg)
            draw.text((x, y + 2), char, font=bold if style.bold else font, fill=fg)
    return image


def style_at(text: Text, offset: int) -> Style:
    """The combined style of one character of a parsed ANSI line."""
    style = Style()
    for span in text.spans:
        if span.start <= offset < span.end:
            style += span.style if isinstance(span.style, Style) else Style.parse(span.style)
    return style


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        ansi = capture(Path(folder))
    render(ansi).save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
