"""Keys for the tester's commands: read from a file, a variable or stdin, never the command line.

The meter's decoder key is derived from a vending key and the key data given as options
(``--dkga``, ``--drn``, ``--sgc``, ``--ti``, ``--krn``, ``--key-type``, ``--base-date``), or given
itself with ``--decoder-key``.  ``--base-date`` is optional: without it derivation takes 2014
(it matters to DKGA04 only) and a decoded TID is shown for every base date.

>>> opts = {"key_file": None, "key_env": "NO_SUCH_VARIABLE_HERE", "key_stdin": False}
>>> read_key_hex(opts["key_file"], opts["key_env"], opts["key_stdin"], "key")
Traceback (most recent call last):
...
stsvend.errors.InputError: the environment variable NO_SUCH_VARIABLE_HERE is not set or empty
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from stsvend.errors import InputError

__all__ = ["DEFAULT_BASE_DATE", "decoder_key", "key_options", "read_key_hex"]

#: The base date derivation takes when none is given (base date 1993 ran out on 2024-11-24).
DEFAULT_BASE_DATE = "2014"


def read_key_hex(key_file: str | None, key_env: str | None, key_stdin: bool, what: str) -> bytes:
    """The key's bytes from exactly one of a file, an environment variable or a stdin line."""
    prefix = "--new-key" if what == "new key" else "--key"
    sources = [s for s in (key_file, key_env, key_stdin or None) if s]
    if len(sources) != 1:
        raise InputError(
            f"give the {what} with exactly one of {prefix}-file PATH, {prefix}-env VAR or "
            f"{prefix}-stdin"
        )
    if key_file:
        try:
            with open(key_file, encoding="ascii") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the key file {key_file}: {exc}") from None
    elif key_env:
        text = os.environ.get(key_env, "")
        if not text:
            raise InputError(f"the environment variable {key_env} is not set or empty")
    else:
        text = sys.stdin.readline()
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        raise InputError(f"the {what} must be hexadecimal") from None


def key_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options that name the key and the meter's key data."""
    options = [
        click.option("--key-file", type=click.Path(dir_okay=False),
                     help="File holding the key (hex)."),
        click.option("--key-env", metavar="VAR",
                     help="Environment variable holding the key (hex)."),
        click.option("--key-stdin", is_flag=True,
                     help="Read the key (hex) from the first line of stdin."),
        click.option("--decoder-key", "is_decoder_key", is_flag=True,
                     help="The key given is the meter's decoder key, not a vending key."),
        click.option("--dkga", type=click.Choice(["02", "04"]), default="02", show_default=True),
        click.option("--ea", type=click.Choice(["07", "11"]), default="07", show_default=True),
        click.option("--iin", default=None,
                     help="Issuer number (default 600727; 0000 for 13-digit DRNs)."),
        click.option("--drn", help="Meter number (11 or 13 digits with its check digit)."),
        click.option("--sgc", help="Supply group code (6 digits)."),
        click.option("--ti", help="Tariff index."),
        click.option("--krn", help="Key revision number (1-9)."),
        click.option("--key-type", default="2", show_default=True),
        click.option("--base-date", type=click.Choice(["1993", "2014", "2035"]), default=None,
                     help="The meter's base date (derivation: 2014 if not given; decode: "
                          "a TID is shown for every base date if not given)."),
    ]  # fmt: skip
    for option in reversed(options):
        fn = option(fn)
    return fn


def decoder_key(opts: dict[str, Any]) -> Any:
    """The decoder key the options name (read, or derived from the vending key read)."""
    from stsvend import sts

    raw = read_key_hex(opts["key_file"], opts["key_env"], opts["key_stdin"], "key")
    if opts["is_decoder_key"]:
        return sts.DecoderKey(raw, opts["ea"])
    missing = [n for n in ("drn", "sgc", "ti", "krn") if opts.get(n) is None]
    if missing:
        raise InputError("deriving a decoder key needs --" + ", --".join(missing))
    meter = sts.MeterIdentity.parse(opts["iin"], opts["drn"])
    data = sts.KeyData(
        sgc=opts["sgc"], ti=opts["ti"], krn=opts["krn"], key_type=opts["key_type"],
        ea=opts["ea"], base_date=opts["base_date"] or DEFAULT_BASE_DATE,
    )  # fmt: skip
    return sts.derive_decoder_key(raw, meter, data, opts["dkga"])
