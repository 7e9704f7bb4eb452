"""``stsvend token key-change``: a whole key change set, in the order to enter it.

The meter's current key is named as for ``token encode`` (``--key-*`` and the key data, or
``--decoder-key``); the new key with ``--new-key-file``, ``--new-key-env`` or ``--new-key-stdin``
(a vending key, derived for the same meter with the new key data, or with ``--new-decoder-key``
the new decoder key itself).  The new key data defaults to the current one: give what changes
(``--new-krn``, ``--new-sgc``, ``--new-ti``, ``--new-key-type``, ``--new-ken``,
``--new-base-date``).  A new base date sets the rollover bit (``docs/sts.md`` §9).  EA07 gives
two tokens, three with ``--with-sgc``; EA11 always four.  Every token is encrypted under the
current key; nothing is issued or logged.
"""

from __future__ import annotations

from typing import Any

import click

from stsvend.errors import InputError
from stsvend_cli.tester_keys import DEFAULT_BASE_DATE, decoder_key, key_options, read_key_hex

__all__ = ["key_change_cmd", "new_key_data"]

_NEW = ("sgc", "ti", "krn", "key_type", "base_date")


def new_key_data(opts: dict[str, Any]) -> Any:
    """The new key data: each ``--new-*`` option, or the current value where it is not given.

    >>> data = new_key_data({"sgc": "123456", "ti": "1", "krn": "1", "key_type": "2",
    ...     "base_date": None, "ea": "07", "new_sgc": None, "new_ti": "2", "new_krn": None,
    ...     "new_key_type": None, "new_base_date": None, "new_ken": None})
    >>> data.sgc, data.ti, data.krn, int(data.base_date), data.ken
    (123456, 2, 1, 2014, 255)
    """
    from stsvend import sts

    values = {n: opts[f"new_{n}"] if opts[f"new_{n}"] is not None else opts[n] for n in _NEW}
    missing = [f"--new-{n.replace('_', '-')}" for n in ("sgc", "ti", "krn") if values[n] is None]
    if missing:
        raise InputError(f"the new key data needs {', '.join(missing)}")
    return sts.KeyData(
        sgc=values["sgc"], ti=values["ti"], krn=values["krn"], key_type=values["key_type"],
        ea=opts["ea"], base_date=values["base_date"] or DEFAULT_BASE_DATE,
        ken=opts["new_ken"] if opts["new_ken"] is not None else 255,
    )  # fmt: skip


def _new_key(opts: dict[str, Any], data: Any) -> Any:
    from stsvend import sts

    raw = read_key_hex(opts["new_key_file"], opts["new_key_env"], opts["new_key_stdin"],
                       "new key")  # fmt: skip
    if opts["new_is_decoder_key"]:
        return sts.DecoderKey(raw, opts["ea"])
    if opts["drn"] is None:
        raise InputError("deriving the new decoder key needs --drn (or give --new-decoder-key)")
    meter = sts.MeterIdentity.parse(opts["iin"], opts["drn"])
    return sts.derive_decoder_key(raw, meter, data, opts["dkga"])


@click.command("key-change")
@click.option("--new-key-file", type=click.Path(dir_okay=False),
              help="File holding the new key (hex).")
@click.option("--new-key-env", metavar="VAR", help="Variable holding the new key (hex).")
@click.option("--new-key-stdin", is_flag=True,
              help="Read the new key from the next line of stdin (after --key-stdin's).")
@click.option("--new-decoder-key", "new_is_decoder_key", is_flag=True,
              help="The new key given is the new decoder key, not a vending key.")
@click.option("--new-sgc", help="New supply group code (default: --sgc).")
@click.option("--new-ti", help="New tariff index (default: --ti).")
@click.option("--new-krn", help="New key revision number (default: --krn).")
@click.option("--new-key-type", help="New key type (default: --key-type).")
@click.option("--new-ken", type=click.IntRange(0, 255), help="New key expiry number [255].")
@click.option("--new-base-date", type=click.Choice(["1993", "2014", "2035"]),
              help="New base date (a change sets the rollover bit).")
@click.option("--with-sgc", is_flag=True,
              help="EA07: add the optional third token carrying the new SGC.")
@click.option("--json", "as_json", is_flag=True, help="Print the set as a JSON object.")
@key_options
def key_change_cmd(with_sgc: bool, as_json: bool, **opts: Any) -> None:
    """Make a key change set (2, 3 or 4 tokens) from the current key to a new one."""
    from stsvend import sts
    from stsvend.sts.layouts import key_sections, layout_for
    from stsvend_cli.tester import _COMPUTED_NOTE, _console, _grouped, _print_json

    if with_sgc and opts["ea"] != "07":
        raise InputError("--with-sgc is for EA07: an EA11 set always carries the SGC")
    current = decoder_key(opts)
    data = new_key_data(opts)
    old_base = sts.BaseDate.parse(opts["base_date"] or DEFAULT_BASE_DATE)
    rollover = data.base_date != old_base
    if rollover and data.base_date is not old_base.next:
        raise InputError(
            f"a rollover moves base date {int(old_base)} to {int(old_base.next)}, "
            f"not {int(data.base_date)}"
        )
    new = _new_key(opts, data)
    digits = sts.key_change_tokens(current, new, data, rollover=rollover, with_sgc=with_sgc)
    sections = key_sections(opts["ea"], with_optional=with_sgc)
    tokens: list[dict[str, Any]] = [
        {"order": n, "token": d, "subclass": int(s.subclass),
         "name": layout_for(2, s.subclass, opts["ea"]).name}
        for n, (d, s) in enumerate(zip(digits, sections, strict=True), start=1)
    ]  # fmt: skip
    target = {"sgc": data.sgc, "krn": data.krn, "ti": data.ti, "key_type": int(data.key_type),
              "ken": data.ken, "base_date": int(data.base_date)}  # fmt: skip
    if as_json:
        _print_json({"ea": opts["ea"], "rollover": rollover, "new": target, "tokens": tokens,
                     "note": _COMPUTED_NOTE})  # fmt: skip
        return
    console = _console()
    console.print(f"key change set, EA{opts['ea']}: {len(tokens)} tokens, enter them in this order")
    for t in tokens:
        console.print(f"  {t['order']}  [bold]{_grouped(t['token'])}[/bold]   {t['name']}")
    console.print(
        f"new key: SGC {data.sgc:06d} KRN {data.krn} TI {data.ti:02d} KT {int(data.key_type)} "
        f"KEN {data.ken} base date {int(data.base_date)}"
        + (" (rollover: the meter clears its TID memory)" if rollover else "")
    )
    console.print(f"[dim]{_COMPUTED_NOTE}[/dim]")
