"""The tester's commands: ``stsvend token encode|decode`` and ``stsvend key derive``.

They compute tokens from keys handed to them (published test keys, conformance rigs): they never
open the key store, never write the token log, and say that what they print was computed, not
issued.  Keys come from a file, an environment variable or standard input — never from the
command line, where they would end up in shell history and process listings.

With ``--jsonl`` they follow the batch contract of ``vectors/README.md``: one JSON object in per
line, one out per line in the same order, errors as objects, exit status 1 if any line failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import click

from stsvend.errors import InputError
from stsvend_cli.tester_keychange import key_change_cmd
from stsvend_cli.tester_keys import DEFAULT_BASE_DATE, decoder_key, key_options

__all__ = ["key", "token"]

_COMPUTED_NOTE = "computed from the key given, not issued: this token is in no log"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a name appears twice in one object")
    return out


def _strict_loads(raw: bytes) -> Any:
    """One line as strict JSON: no NaN/Infinity, no repeated names, bounded nesting."""
    try:
        return json.loads(raw, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _batch_worker(kind: str, lines: list[bytes], cache: Any = None) -> tuple[bytes, int]:
    """Process a chunk of JSON lines; returns the output bytes and the number of failures.

    ``cache`` is the run's :class:`~stsvend.sts.batch.KeyCache` (a new one per chunk if None).

    Every line is judged alone and answered with one line of valid JSON, whatever it holds.
    """
    from stsvend.sts import batch

    fn = {"encode": batch.encode_case, "decode": batch.decode_case, "derive": batch.derive_case}[
        kind
    ]
    dumps = json.dumps
    if cache is None:
        cache = batch.KeyCache()
    out: list[str] = []
    failed = 0
    for raw in lines:
        try:
            case: Any = _strict_loads(raw)
        except ValueError as exc:
            result: dict[str, Any] = {
                "id": None,
                "error": {"code": "input", "message": f"not a JSON object: {exc}"},
            }
        else:
            result = fn(case, cache)
        if "error" in result:
            failed += 1
        out.append(dumps(result, separators=(",", ":"), allow_nan=False))
    return ("\n".join(out) + "\n").encode() if out else b"", failed


def _chunks(stream: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for line in stream:
        if not line.strip():
            continue  # blank lines carry no case
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_batch(kind: str, workers: int) -> int:
    """Stream standard input to standard output; returns the exit status."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    failed = 0
    if workers <= 1:
        from stsvend.sts.batch import KeyCache

        cache = KeyCache()
        for chunk in _chunks(stdin, 512):
            data, bad = _batch_worker(kind, chunk, cache)
            stdout.write(data)
            failed += bad
    else:
        import multiprocessing
        from functools import partial

        # fork keeps start-up cheap; imap keeps the output in input order.
        ctx = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with ctx.Pool(workers) as pool:
            work = partial(_batch_worker, kind)
            for data, bad in pool.imap(work, _chunks(stdin, 2048)):
                stdout.write(data)
                failed += bad
    stdout.flush()
    return 1 if failed else 0


def _grouped(token: str) -> str:
    return " ".join(token[i : i + 4] for i in range(0, 20, 4))


def _parse_fields(pairs: tuple[str, ...]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"--field takes NAME=VALUE, got {pair!r}")
        if name in fields:
            raise InputError(f"--field {name} is given twice")
        value = value.strip()
        try:
            fields[name] = int(value, 0)
        except ValueError:
            fields[name] = value  # hex key material stays a string
    return fields


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def _single(jsonl: bool, as_json: bool) -> None:
    if jsonl and as_json:
        raise click.UsageError("--json is for one token; --jsonl already answers in JSON")


def _json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True,
                        help="One token: print it as a JSON object.")(fn)  # fmt: skip


@click.group()
def token() -> None:
    """Compute and read tokens from test keys (never issues, never logs)."""


@token.command("encode")
@click.option("--jsonl", is_flag=True, help="Batch: JSON case objects on stdin, one per line.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes for --jsonl (output order is kept).")  # fmt: skip
@click.option("--class", "token_class", type=click.IntRange(0, 2),
              help="Token class: 0 credit, 1 test/display (no key), 2 management.")  # fmt: skip
@click.option("--subclass", type=click.IntRange(0, 15),
              help="Token subclass (class 1: 0 with a 2-digit, 1 with a 4-digit manufacturer "
                   "code, 2 extended read).")  # fmt: skip
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE",
              help="A token field, e.g. tid=5871715, rnd=5, transfer_amount=100; class 1: "
                   "control=BITS (1 test all, 2 load switch, 4 display, 8 total energy, … as "
                   "in `stsvend test-token --help`), manufacturer_code=0 (every "
                   "meter).")  # fmt: skip
@click.option("--tid", "tid_text", metavar="now|TIME|N",
              help="The TID: now, an ISO 8601 time (UTC if no zone) or minutes since the base "
                   "date.")  # fmt: skip
@_json_option
@key_options
def encode_cmd(jsonl: bool, workers: int, token_class: int | None, subclass: int | None,
               fields: tuple[str, ...], tid_text: str | None, as_json: bool,
               **opts: Any) -> None:  # fmt: skip
    """Encode a token from its fields (or a batch of case objects with --jsonl)."""
    _single(jsonl, as_json)
    if jsonl:
        raise SystemExit(run_batch("encode", workers))
    from stsvend.sts.batch import raw_fields
    from stsvend.sts.codec import encode_token
    from stsvend.sts.layouts import TokenClass, layout_for
    from stsvend_cli.tester_view import check_field_names, describe, readable_lines, tid_from_text

    if token_class is None or subclass is None:
        raise InputError("give --class and --subclass (or use --jsonl)")
    given = _parse_fields(fields)
    key = None if token_class == TokenClass.INITIATE_METER_TEST else decoder_key(opts)
    ea = key.ea if key is not None else None
    layout = layout_for(token_class, subclass, ea.value if ea else None)
    check_field_names(layout, given)
    if tid_text is not None:
        if not layout.has_tid:
            raise InputError(f"{layout.name} carries no TID: --tid does not apply")
        if "tid" in given:
            raise InputError("give the TID once: --tid or --field tid=")
        given["tid"] = tid_from_text(tid_text, opts["base_date"] or DEFAULT_BASE_DATE, None)
    raw = raw_fields(layout, given, ea)
    digits = encode_token(token_class, subclass, raw, key)
    desc = describe(layout, raw, opts["base_date"])
    if as_json:
        _print_json({"token": digits, **desc, "note": _COMPUTED_NOTE})
        return
    console = _console()
    console.print(f"[bold]{_grouped(digits)}[/bold]   {layout.name}")
    for line in readable_lines(desc):
        console.print(line)
    console.print(f"[dim]{_COMPUTED_NOTE}[/dim]")


@token.command("decode")
@click.argument("token_digits", required=False, metavar="TOKEN")
@click.option("--jsonl", is_flag=True, help="Batch: {id, token, ea, key} objects on stdin.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--no-key", is_flag=True, help="Decode a class 1 token (not encrypted).")
@_json_option
@key_options
def decode_cmd(token_digits: str | None, jsonl: bool, workers: int, no_key: bool,
               as_json: bool, **opts: Any) -> None:  # fmt: skip
    """Decrypt a token with a key and show its fields, its TID's time and its amount."""
    _single(jsonl, as_json)
    if jsonl:
        raise SystemExit(run_batch("decode", workers))
    from rich.table import Table

    from stsvend.sts import decode_token
    from stsvend_cli.tester_view import describe, readable_lines

    if not token_digits:
        raise InputError("give the 20-digit TOKEN (or use --jsonl)")
    key = None if no_key else decoder_key(opts)
    decoded = decode_token(token_digits, key)
    desc = describe(decoded.layout, decoded.fields, opts["base_date"])
    if as_json:
        _print_json({"token": token_digits, **desc})
        return
    table = Table(title=f"class {decoded.token_class} subclass {decoded.subclass}: {decoded.name}")
    table.add_column("field")
    table.add_column("value", justify="right")
    for name, value in desc["fields"].items():
        table.add_row(name, str(value))
    console = _console()
    console.print(table)
    for line in readable_lines(desc):
        console.print(line)


token.add_command(key_change_cmd)


@click.group()
def key() -> None:
    """Decoder keys from test vending keys (never the key store)."""


@key.command("derive")
@click.option("--jsonl", is_flag=True, help="Batch: {id, key, ea} objects on stdin.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@key_options
def derive_cmd(jsonl: bool, workers: int, **opts: Any) -> None:
    """Derive a meter's decoder key from a vending key handed in (test rigs only)."""
    if jsonl:
        raise SystemExit(run_batch("derive", workers))
    if opts["is_decoder_key"]:
        raise InputError("key derive takes a vending key, not --decoder-key")
    click.echo(decoder_key(opts).hex())
