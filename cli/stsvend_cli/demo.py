"""``stsvend demo``: a real vend with the TEST keyset, and a simulated meter that takes it.

On a fresh machine (or ``STSVEND_DATA_DIR``) the demo:

1. creates the SQLite store in the data directory (migrated to the current schema) and marks
   it as the TEST demo store, with the demo utility's identity (``Demo Utility``, USD, UTC);
2. loads the demo keyset (the published STS test keys) into a TEST keystore whose key-encryption
   key is generated on first run (``demo-kek.hex``, mode 0600);
3. creates one TEST operator per role (``demo-clerk`` … ``demo-admin``) with a PIN derived from
   the store's demo seed (:mod:`stsvend.services.demo_operators`), and opens a shift for those
   who sell;
4. registers supply group 123456, a tariff and the demo meter 01234567897 as a new meter on its
   **default** key, with a pending commissioning key change to its unique key;
5. vends through the vending services (one transaction: tokens, ledger, token log) and prints
   the receipt, key change tokens first;
6. enters each token into the library's meter model (:mod:`stsvend.meter`), through the demo
   meter's keypad profile ``demo-meter.toml``, and shows what the meter answers; when the key
   change tokens are taken it confirms the key change, so the next run sells straight onto the
   unique key;
7. shows the demo operators with their PINs and the next three commands worth trying.

Run again, it reuses the store and the meter's saved state (``demo-meter.state.json``, which
``stsvend-keypad run demo-meter.toml`` opens too): a new sale, a new TID, the same PINs.
``--reset`` removes the demo store's files and starts afresh.  Everything is marked TEST; a data
directory holding an imported keystore, or a store set up by ``stsvend init``, is refused: a
production store never has a printed PIN.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from stsvend.errors import StsError

if TYPE_CHECKING:
    from stsvend.services.receipt_model import SaleReceipt

__all__ = ["DemoMeterRefused", "demo", "next_commands"]

DEMO_DRN = "01234567897"
DEMO_IIN = "600727"
DEMO_SGC = 123456
DEMO_TARIFF = "DEMO"
DEMO_CUSTOMER = "DEMO-CUST-1"
DEMO_CONTRACT = "DEMO-CONTRACT-1"
DEMO_AMOUNT = "50.00"
#: The demo meter's keypad profile and its state, in the data directory.
PROFILE_FILE = "demo-meter.toml"
STATE_FILE = "demo-meter.state.json"
#: Where an older demo kept the meter's state (read once, then moved to STATE_FILE).
LEGACY_STATE_FILE = "demo-meter.json"
# The published DKGA02 test vending key (public: docs/sts.md §11).  The simulated meter
# holds its own decoder key, derived from it as a factory would; the vending side never sees it.
_PUBLISHED_TEST_VENDING_KEY = "abababababababab"


class DemoMeterRefused(StsError):
    """The simulated meter did not take a token of the demo sale (a bug if it happens)."""

    code = "refused"
    default_message = "the meter model refused a token"


def _setup(svc: Any, admin: Any) -> list[str]:
    """Register what the demo needs, once; returns what was created this time."""
    from stsvend.services.registry import add_group, add_meter, open_account
    from stsvend.services.tariffs import add_tariff, parse_blocks
    from stsvend.store.errors import RecordNotFoundError
    from stsvend.store.repos import accounts, groups, meters

    made: list[str] = []
    with svc.store.transaction() as conn:
        have_group = _exists(lambda: groups.get_group(conn, DEMO_SGC), RecordNotFoundError)
        have_tariff = _exists(lambda: accounts.get_tariff(conn, DEMO_TARIFF), RecordNotFoundError)
        have_meter = _exists(lambda: meters.get_meter(conn, DEMO_DRN), RecordNotFoundError)
        have_account = _exists(
            lambda: accounts.get_account(conn, DEMO_CONTRACT), RecordNotFoundError
        )
    if not have_group:
        add_group(svc, admin, DEMO_SGC, name="Demo supply group", krn=1, base_date=2014)
        made.append(f"supply group {DEMO_SGC} (KRN 1, base date 2014)")
    if not have_tariff:
        add_tariff(
            svc, admin, DEMO_TARIFF, name="Demo domestic",
            blocks=parse_blocks(None, ["50:1.50", ":2.00"]), tax_percent="15",
        )  # fmt: skip
        made.append("tariff DEMO (50 kWh at 1.50, then 2.00; VAT 15 % included)")
    if not have_meter:
        add_meter(svc, admin, DEMO_DRN, sgc=DEMO_SGC, iin=DEMO_IIN, default_key=True)
        made.append(f"meter {DEMO_DRN} on its default key, commissioning key change pending")
    if not have_account:
        open_account(svc, admin, customer=DEMO_CUSTOMER, contract=DEMO_CONTRACT,
                     drn=DEMO_DRN, tariff=DEMO_TARIFF)  # fmt: skip
        made.append(f"account {DEMO_CONTRACT} for customer {DEMO_CUSTOMER}")
    return made


def _exists(fetch: Any, missing: type[Exception]) -> bool:
    try:
        fetch()
    except missing:
        return False
    return True


_PROFILE = f"""\
# The demo meter, for stsvend-keypad: `stsvend-keypad run {PROFILE_FILE}` opens it as
# `stsvend demo` left it (its state is {STATE_FILE}).  TEST keys only.
[meter]
name = "Demo meter {DEMO_DRN}"
drn = "{DEMO_DRN}"
iin = "{DEMO_IIN}"

[key]
sgc = {DEMO_SGC}
ti = 1
krn = 1
key_type = 1                          # made on its default key (DDTK); commissioning changes it
base_date = 2014
vending_key = "{_PUBLISHED_TEST_VENDING_KEY}"   # the published DKGA02 test vending key
dkga = "02"
"""


def _meter(data_dir: Path, now: Any) -> Any:
    """The simulated demo meter, through its keypad profile: as manufactured (default key), or
    as the last run (of the demo or of the keypad simulator) left it."""
    from stsvend.keystore.files import write_atomic
    from stsvend.meter import Meter
    from stsvend_keypad.profiles import load_profile
    from stsvend_keypad.store import StateStore

    profile_path = data_dir / PROFILE_FILE
    if not profile_path.exists():
        write_atomic(profile_path, _PROFILE.encode())
    profile = load_profile(profile_path).profile
    saved = StateStore(data_dir / STATE_FILE).load()
    legacy = data_dir / LEGACY_STATE_FILE
    if saved is not None:
        return Meter.restore(profile, saved.get("meter"))
    if legacy.exists():
        return Meter.restore(profile, json.loads(legacy.read_text(encoding="utf-8")))
    # Made a day ago: a meter's TID memory starts at its manufacture.
    return Meter.manufacture(profile, now - timedelta(days=1))


def _save_meter(data_dir: Path, meter: Any) -> None:
    from stsvend_keypad.store import StateStore

    # The state holds the meter's decoder key: owner-only (0600), written atomically.
    StateStore(data_dir / STATE_FILE).save(meter.snapshot())
    (data_dir / LEGACY_STATE_FILE).unlink(missing_ok=True)


def _claim(svc: Any) -> None:
    """Make sure this store is the demo's (marking a new one so); refuse any other."""
    from sqlalchemy import select

    from stsvend.keystore.errors import KeystoreModeError
    from stsvend.services.identity import (
        DEMO_IDENTITY,
        apply_identity,
        is_demo_store,
        read_identity,
        write_identity,
    )
    from stsvend.store.models import Operator
    from stsvend.store.repos.operators import NO_PIN
    from stsvend.store.repos.settings import get_setting

    with svc.store.transaction() as conn:
        if not is_demo_store(conn):
            identity = read_identity(conn)
            # A terminal's operator row (no PIN) is not a person's: the demo server makes one.
            people = select(Operator.username).where(Operator.pin_hash != NO_PIN)
            others = [n for (n,) in conn.execute(people) if not n.startswith("demo-")]
            if identity is not None or others or get_setting(conn, "keyset_mode") == "production":
                who = f" for {identity.utility_name}" if identity else ""
                raise KeystoreModeError(
                    f"this store was set up{who} by `stsvend init`: the demo never writes TEST "
                    "data into it; run the demo with STSVEND_DATA_DIR (and STSVEND_DATABASE_URL) "
                    "pointing elsewhere"
                )
        # A configured currency or zone other than the demo's is refused before anything is kept.
        svc.config = apply_identity(svc.config, DEMO_IDENTITY)
        write_identity(conn, DEMO_IDENTITY, demo=True)


def _reset(config: Any) -> list[str]:
    """Remove the demo store's files, after checking they are the demo's; returns their names."""
    from stsvend.errors import InputError
    from stsvend.services.bootstrap import demo_keystore_path, open_services

    default_db = config.data_dir / "stsvend.db"
    if config.database_url != f"sqlite:///{default_db}":
        raise InputError(
            "--reset removes the demo's SQLite store in the data directory; this installation's "
            "database is elsewhere (STSVEND_DATABASE_URL): drop it yourself, then run the demo"
        )
    if default_db.exists():
        svc = open_services(config, keys=False, migrate=True)
        try:
            _claim(svc)  # refuses a store that is not the demo's
        finally:
            svc.store.dispose()
    gone = []
    # SQLite's side files go with the store: a stale write-ahead log must not meet a new store.
    sqlite_files = [default_db.with_name(default_db.name + s) for s in ("-wal", "-shm", "-journal")]
    for path in (default_db, *sqlite_files, demo_keystore_path(config),
                 config.data_dir / "demo-kek.hex",
                 config.data_dir / PROFILE_FILE, config.data_dir / STATE_FILE,
                 config.data_dir / LEGACY_STATE_FILE):  # fmt: skip
        if path.exists():
            path.unlink()
            gone.append(path.name)
    return gone


def next_commands(data_dir: Path) -> list[str]:
    """The three commands worth trying after the demo (each asks for its operator's PIN)."""
    return [
        f"stsvend vend {DEMO_DRN} 20.00 --operator demo-clerk",
        f"stsvend-keypad run {data_dir / PROFILE_FILE}",
        "stsvend log verify --operator demo-auditor",
    ]


@click.command()
@click.option("--amount", default=DEMO_AMOUNT, show_default=True, help="Money to vend.")
@click.option("--reset", is_flag=True, help="Start the demo store afresh (TEST store only).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def demo(amount: str, reset: bool, as_json: bool) -> None:
    """Vend a TEST token to the demo meter and show the meter model accepting it."""
    from stsvend.keystore.errors import KeystoreModeError
    from stsvend.services.bootstrap import keystore_path, open_services
    from stsvend.services.demo_operators import ensure_demo_operators
    from stsvend.services.keychange import confirm
    from stsvend.services.results import as_doc
    from stsvend.services.vend import vend
    from stsvend.store.repos.keychanges import open_key_change
    from stsvend.store.repos.meters import get_meter
    from stsvend.sts.layouts import TokenClass, section_of
    from stsvend_cli.common import load_config

    config = load_config()
    if keystore_path(config).exists():
        raise KeystoreModeError(
            f"{config.data_dir} holds an imported keystore: the demo never mixes its TEST keys "
            "with it; run it with STSVEND_DATA_DIR pointing to another folder"
        )
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    removed = _reset(config) if reset else []
    # The store is checked (and a new one marked as the demo's) before any TEST key is written.
    check = open_services(config, keys=False, migrate=True)
    try:
        _claim(check)
    finally:
        check.store.dispose()
    svc = open_services(config, demo=True)
    try:
        operators, actors = ensure_demo_operators(svc)
        made = _setup(svc, actors["admin"])
        seller = actors["supervisor"]
        result = vend(svc, seller, DEMO_DRN, amount)
        meter = _meter(config.data_dir, svc.now())
        now = max(svc.now(), meter.state.clock)
        answers = []
        for token in result.tokens:
            assert token.digits is not None  # a sale's tokens are handed out with their digits
            answer = meter.enter(token.digits, now)
            answers.append({**answer.as_dict(), "token": token.label,
                            "digits": token.digits})  # fmt: skip
        confirmed = None
        management = TokenClass.METER_MANAGEMENT
        kcts = [a for a in answers if a["token_class"] == management and section_of(a["subclass"])]
        if kcts and all(a["accepted"] for a in kcts):
            with svc.store.transaction() as conn:
                still_open = open_key_change(conn, get_meter(conn, DEMO_DRN).id) is not None
            if still_open:
                confirmed = confirm(svc, seller, DEMO_DRN)
        _save_meter(config.data_dir, meter)
        status = meter.status(now)
    finally:
        svc.store.dispose()

    out = {
        "test": True,
        "data_dir": str(config.data_dir),
        "reset": removed,
        "created": made,
        "operators": as_doc(operators),
        "receipt": as_doc(result),
        "meter": {
            "answers": answers,
            "status": status,
            "profile": str(config.data_dir / PROFILE_FILE),
        },
        "key_change_confirmed": confirmed is not None,
        "next": next_commands(config.data_dir),
    }
    if as_json:
        click.echo(json.dumps(out, indent=2, sort_keys=True, default=str))
    else:
        _show(out, result)
    if not all(a["accepted"] for a in answers):
        raise DemoMeterRefused("the meter model refused a token (see the table above)")


def _show(out: dict[str, Any], receipt: SaleReceipt) -> None:
    from rich.table import Table

    from stsvend_cli.common import console
    from stsvend_cli.receipt import print_receipt

    cons = console()
    cons.print("[bold red]TEST[/] demo: published STS test keys, for test meters only")
    cons.print(f"data directory: {out['data_dir']}")
    if out["reset"]:
        cons.print(f"  reset: removed {', '.join(out['reset'])}")
    for item in out["created"]:
        cons.print(f"  created {item}")
    print_receipt(receipt)
    table = Table(title=f"Meter model {DEMO_DRN} (stsvend.meter), tokens entered in order")
    for column in ("token", "digits", "meter says", "detail"):
        table.add_column(column)
    for a in out["meter"]["answers"]:
        shown = a["label"] if a["accepted"] else f"Err {a['code']} {a['label']}"
        style = "green" if a["accepted"] else "bold red"
        table.add_row(a["token"], " ".join(a["digits"][i : i + 4] for i in range(0, 20, 4)),
                      f"[{style}]{shown}[/]", a["message"])  # fmt: skip
    cons.print(table)
    status = out["meter"]["status"]
    cons.print(
        f"meter credit now {status['credit']['display']}, relay {status['relay']}, "
        f"key type {status['key']['key_type']}"
    )
    if out["key_change_confirmed"]:
        cons.print("the meter took its key change tokens: key change confirmed (unique key)")
    ops = Table(title="TEST operators (this demo store only)")
    for column in ("operator", "role", "PIN"):
        ops.add_column(column)
    for o in out["operators"]:
        ops.add_row(o["name"], o["role"], o["pin"] or "(changed by you: `stsvend demo --reset`)")
    cons.print(ops)
    cons.print("Next, try (each asks for the operator's PIN above):")
    for command in out["next"]:
        cons.print(f"  {command}", soft_wrap=True, markup=False)
