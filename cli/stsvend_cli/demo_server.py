"""``stsvend serve`` with no installation: the TEST demo sale-point server.

On a fresh machine (no keystore imported, the default SQLite store absent or the demo's own)
``stsvend serve`` sets up what ``stsvend demo`` sets up (the TEST store, the published test
keys, the demo operators, supply group, tariff and meter 01234567897), plus a TEST vendor
``DEMO`` with a float of 1 000.00 and its terminal ``TILL-1``, and prints that terminal's key.
The key is shown once and stored only as its hash, so each start makes a new one (the last one
stops working).  A store set up by ``stsvend init``, a keystore imported into the data directory
or a database elsewhere is never touched: the server then serves that installation.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

__all__ = ["DEMO_FLOAT", "DEMO_TERMINAL", "DEMO_VENDOR", "DemoServer", "prepare", "wants_demo"]

DEMO_VENDOR = "DEMO"
DEMO_TERMINAL = "TILL-1"
DEMO_FLOAT = "1000.00"


@frozen
class DemoServer:
    """What the demo server prints: its terminal's key, and a meter to buy for."""

    vendor: str
    terminal: str
    key: str
    meter: str
    created: tuple[str, ...]


def _default_sqlite(config: Any) -> Any:
    path = config.data_dir / "stsvend.db"
    return path if config.database_url == f"sqlite:///{path}" else None


def wants_demo(config: Any) -> bool:
    """Whether this is a fresh machine or the demo's store (and so the demo server)."""
    from stsvend.services.bootstrap import keystore_path, open_services
    from stsvend.services.identity import is_demo_store

    path = _default_sqlite(config)
    if keystore_path(config).exists() or path is None:
        return False
    if not path.exists():
        return True
    svc = open_services(config, keys=False, migrate=True)
    try:
        with svc.store.transaction() as conn:
            return is_demo_store(conn)
    finally:
        svc.store.dispose()


def prepare(config: Any) -> DemoServer:
    """Set up (or reuse) the demo store, vendor and terminal; a new key for the terminal."""
    from stsvend.services import terminals, vendors
    from stsvend.services.bootstrap import open_services
    from stsvend.services.demo_operators import ensure_demo_operators
    from stsvend.store.errors import RecordNotFoundError
    from stsvend.store.repos import vendors as repo
    from stsvend_cli.demo import DEMO_DRN, _claim, _setup

    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    check = open_services(config, keys=False, migrate=True)
    try:
        _claim(check)  # marks a new store as the demo's; refuses any other
    finally:
        check.store.dispose()
    svc = open_services(config, demo=True)
    try:
        _operators, actors = ensure_demo_operators(svc)
        admin, boss = actors["admin"], actors["supervisor"]
        made = list(_setup(svc, admin))
        with svc.store.transaction() as conn:
            try:
                vendor = repo.get_vendor(conn, DEMO_VENDOR)
                has_terminal = any(t.code == DEMO_TERMINAL
                                   for t in repo.list_terminals(conn, vendor.id))  # fmt: skip
            except RecordNotFoundError:
                vendor, has_terminal = None, False
        if vendor is None:
            vendors.add_vendor(svc, admin, DEMO_VENDOR, name="Demo shop (TEST)", commission="2.5")
            vendors.deposit(svc, boss, DEMO_VENDOR, DEMO_FLOAT, reference="DEMO-FLOAT")
            made.append(f"vendor {DEMO_VENDOR} with a float of {DEMO_FLOAT}")
        if has_terminal:
            key = terminals.rotate_key(svc, admin, DEMO_VENDOR, DEMO_TERMINAL)
        else:
            key = terminals.add_terminal(svc, admin, DEMO_VENDOR, DEMO_TERMINAL)
            made.append(f"terminal {DEMO_VENDOR}/{DEMO_TERMINAL}")
    finally:
        svc.store.dispose()
    return DemoServer(DEMO_VENDOR, DEMO_TERMINAL, key.key, DEMO_DRN, tuple(made))


def banner(demo: DemoServer, base: str) -> list[str]:
    """The lines the demo server prints before it starts."""
    return [
        "TEST demo sale-point server (published test keys; a TEST store only).",
        f"Terminal {demo.vendor}/{demo.terminal}, key (new at each start, shown only now):",
        f"  {demo.key}",
        "Try a purchase:",
        f"  curl -s -X POST {base}/v1/purchases -H 'Authorization: Bearer {demo.key}' "
        "-H 'Content-Type: application/json' "
        f"-d '{{\"purchase_id\": \"try-1\", \"meter\": \"{demo.meter}\", \"amount\": \"20.00\"}}'",
    ]
