"""``stsvend demo``: a real vend with the TEST keyset, and a simulated meter that takes it.

On a fresh machine (or ``STSVEND_DATA_DIR``) the demo:

1. creates the SQLite store in the data directory (migrated to the current schema);
2. loads the demo keyset (the published STS test keys) into a TEST keystore whose key-encryption
   key is generated on first run (``demo-kek.hex``, mode 0600);
3. registers supply group 123456, a tariff, demo operators, and the demo meter 01234567897 as a
   new meter on its **default** key, with a pending commissioning key change to its unique key;
4. vends through the vending services (one transaction: tokens, ledger, token log) and prints
   the receipt, key change tokens first;
5. enters each token into the library's meter model (:mod:`stsvend.meter`) built for the demo
   meter, and shows what the meter answers; when the key change tokens are taken it confirms
   the key change, so the next run sells straight onto the unique key.

Run again, it reuses the store and the meter's saved state (``demo-meter.json``): a new sale,
a new TID.  Everything is marked TEST; a data directory holding production keys is refused.
The demo operators get random PINs that are kept nowhere: the demo acts for them directly.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from stsvend.errors import StsError

__all__ = ["DemoMeterRefused", "demo"]

DEMO_DRN = "01234567897"
DEMO_IIN = "600727"
DEMO_SGC = 123456
DEMO_TARIFF = "DEMO"
DEMO_CUSTOMER = "DEMO-CUST-1"
DEMO_CONTRACT = "DEMO-CONTRACT-1"
DEMO_AMOUNT = "50.00"
DEMO_ADMIN = "demo-admin"
DEMO_CLERK = "demo-supervisor"
METER_STATE_FILE = "demo-meter.json"
# The published DKGA02 test vending key (public: docs/sts.md §11).  The simulated meter
# holds its own decoder key, derived from it as a factory would; the vending side never sees it.
_PUBLISHED_TEST_VENDING_KEY = "abababababababab"


class DemoMeterRefused(StsError):
    """The simulated meter did not take a token of the demo sale (a bug if it happens)."""

    code = "refused"
    default_message = "the meter model refused a token"


def _actor(svc: Any, username: str, role: str) -> Any:
    """The demo's operator (created with a random PIN nobody knows), acting directly."""
    from stsvend.services.context import Actor
    from stsvend.services.pin import hash_pin, random_pin
    from stsvend.store.errors import RecordNotFoundError
    from stsvend.store.repos import operators as ops

    with svc.store.transaction() as conn:
        try:
            op = ops.get_operator(conn, username)
        except RecordNotFoundError:
            # 12 random digits (never a weak PIN); nobody chose it, so one is due at any login.
            op = ops.add_operator(
                conn, username, role, hash_pin(random_pin()), svc.now(), must_change_pin=True
            )
        shift = ops.open_shift_of(conn, op.id, svc.config.terminal)
        if shift is None:
            shift = ops.open_shift(conn, op.id, svc.config.terminal, svc.now())
    return Actor(op.id, op.username, op.role, svc.config.terminal, shift.id)


def _setup(svc: Any) -> list[str]:
    """Register what the demo needs, once; returns what was created this time."""
    from stsvend.services.registry import add_group, add_meter, open_account
    from stsvend.services.tariffs import add_tariff, parse_blocks
    from stsvend.store.errors import RecordNotFoundError
    from stsvend.store.repos import accounts, groups, meters

    admin = _actor(svc, DEMO_ADMIN, "admin")
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


def _meter(data_dir: Path, now: Any) -> Any:
    """The simulated demo meter: as manufactured (default key), or as the last run left it."""
    from stsvend import sts
    from stsvend.meter import Meter, MeterProfile

    identity = sts.MeterIdentity.parse(DEMO_IIN, DEMO_DRN)
    factory_key = sts.KeyData(
        sgc=DEMO_SGC, ti=1, krn=1, key_type=sts.KeyType.DDTK, base_date=sts.BaseDate.Y2014
    )
    profile = MeterProfile.derive(identity, factory_key, bytes.fromhex(_PUBLISHED_TEST_VENDING_KEY))
    path = data_dir / METER_STATE_FILE
    if path.exists():
        return Meter.restore(profile, json.loads(path.read_text(encoding="utf-8")))
    # Made a day ago: a meter's TID memory starts at its manufacture.
    return Meter.manufacture(profile, now - timedelta(days=1))


def _save_meter(data_dir: Path, meter: Any) -> None:
    from stsvend.keystore.files import write_atomic

    # The snapshot holds the meter's decoder key: owner-only (0600), written atomically.
    write_atomic(data_dir / METER_STATE_FILE, json.dumps(meter.snapshot(), indent=1).encode())


@click.command()
@click.option("--amount", default=DEMO_AMOUNT, show_default=True, help="Money to vend.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def demo(amount: str, as_json: bool) -> None:
    """Vend a TEST token to the demo meter and show the meter model accepting it."""
    from rich.table import Table

    from stsvend.keystore.errors import KeystoreModeError
    from stsvend.services.bootstrap import keystore_path, open_services
    from stsvend.services.keychange import confirm
    from stsvend.services.vend import vend
    from stsvend.store.repos.keychanges import open_key_change
    from stsvend.store.repos.meters import get_meter
    from stsvend.sts.layouts import TokenClass, section_of
    from stsvend_cli.common import console, load_config
    from stsvend_cli.receipt import print_receipt

    config = load_config()
    if keystore_path(config).exists():
        raise KeystoreModeError(
            f"{config.data_dir} holds an imported keystore: the demo never mixes its TEST keys "
            "with it; run it with STSVEND_DATA_DIR pointing to another folder"
        )
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    svc = open_services(config, demo=True, migrate=True)
    try:
        made = _setup(svc)
        clerk = _actor(svc, DEMO_CLERK, "supervisor")
        result = vend(svc, clerk, DEMO_DRN, amount)
        now = svc.now()
        meter = _meter(config.data_dir, now)
        answers = []
        for token in result["tokens"]:
            answer = meter.enter(token["digits"], now)
            answers.append({**answer.as_dict(), "token": token["label"],
                            "digits": token["digits"]})  # fmt: skip
        confirmed = None
        management = TokenClass.METER_MANAGEMENT
        kcts = [a for a in answers if a["token_class"] == management and section_of(a["subclass"])]
        if kcts and all(a["accepted"] for a in kcts):
            with svc.store.transaction() as conn:
                still_open = open_key_change(conn, get_meter(conn, DEMO_DRN).id) is not None
            if still_open:
                confirmed = confirm(svc, clerk, DEMO_DRN)
        _save_meter(config.data_dir, meter)
        status = meter.status(now)
    finally:
        svc.store.dispose()

    out = {
        "test": True,
        "data_dir": str(config.data_dir),
        "created": made,
        "receipt": result,
        "meter": {"answers": answers, "status": status},
        "key_change_confirmed": confirmed is not None,
    }
    if as_json:
        click.echo(json.dumps(out, indent=2, sort_keys=True, default=str))
        return
    cons = console()
    cons.print("[bold red]TEST[/] demo: published STS test keys, for test meters only")
    cons.print(f"data directory: {config.data_dir}")
    for item in made:
        cons.print(f"  created {item}")
    print_receipt(result)
    table = Table(title=f"Meter model {DEMO_DRN} (stsvend.meter), tokens entered in order")
    for column in ("token", "digits", "meter says", "detail"):
        table.add_column(column)
    for a in answers:
        shown = a["label"] if a["accepted"] else f"Err {a['code']} {a['label']}"
        style = "green" if a["accepted"] else "bold red"
        table.add_row(a["token"], " ".join(a["digits"][i : i + 4] for i in range(0, 20, 4)),
                      f"[{style}]{shown}[/]", a["message"])  # fmt: skip
    cons.print(table)
    cons.print(
        f"meter credit now {status['credit']['display']}, relay {status['relay']}, "
        f"key type {status['key']['key_type']}"
    )
    if confirmed is not None:
        cons.print("the meter took its key change tokens: key change confirmed (unique key)")
    if not all(a["accepted"] for a in answers):
        raise DemoMeterRefused("the meter model refused a token (see the table above)")
