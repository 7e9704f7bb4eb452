"""``stsvend demo`` on a fresh machine, twice; and the commands' modules load light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stsvend_cli.exit_codes import exit_code_for
from stsvend_cli.registry import COMMANDS
from tests.cli.conftest import PINS, STSVEND, Cli


def _demo(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSVEND_")}
    env.update(STSVEND_DATA_DIR=str(data_dir), COLUMNS="160")
    proc = subprocess.run([*STSVEND, "demo", *args], capture_output=True, text=True,
                          timeout=120, env=env)  # fmt: skip
    assert "Traceback" not in proc.stderr
    return proc


def test_the_demo_on_a_fresh_machine_then_again(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "stsvend"
    first = _demo(data)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    for needed in ("TEST", "created meter 01234567897 on its default key", "Key change 1 of 2",
                   "1st KCT entered", "new key installed", "key change confirmed",
                   "Receipt 1", "SGC 123456"):  # fmt: skip
        assert needed in out, needed
    assert (data / "stsvend.db").exists() and (data / "demo-keystore.json").exists()
    assert (data / "demo-kek.hex").stat().st_mode & 0o077 == 0
    # The simulated meter's saved state holds its decoder key: only the owner may read it.
    assert (data / "demo-meter.state.json").stat().st_mode & 0o077 == 0
    second = _demo(data, "--json")
    assert second.returncode == 0, second.stderr
    doc = json.loads(second.stdout)
    assert doc["test"] is True and doc["created"] == []
    assert [t["label"] for t in doc["receipt"]["tokens"]] == ["Credit"]
    assert doc["receipt"]["receipt"] == 2
    [answer] = doc["meter"]["answers"]
    assert answer["accepted"] and answer["label"] == "Accept"
    assert doc["meter"]["status"]["key"]["key_type"] == 2


def test_the_demo_never_mixes_with_an_imported_keystore(tmp_path: Path) -> None:
    data = tmp_path / "prod"
    data.mkdir()
    (data / "keystore.json").write_text("{}")
    proc = _demo(data)
    assert proc.returncode == exit_code_for("keystore_mode")
    assert "never mixes" in proc.stderr


@pytest.mark.parametrize("module", sorted({target.split(":")[0] for target in COMMANDS.values()}))
def test_command_modules_load_without_the_storage_stack(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "print([m for m in ('sqlalchemy', 'alembic', 'rich', 'psycopg') if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


#: The demo store keeps the demo utility's identity; the harness's own (City Power, ZAR)
#: would contradict it, so a demo run names the demo's.
DEMO_ENV = {"STSVEND_CURRENCY": "USD", "STSVEND_TIMEZONE": "UTC",
            "STSVEND_UTILITY_NAME": "Demo Utility", "STSVEND_TAX_NUMBER": "TAX-000000"}  # fmt: skip
ROLES = ["clerk", "supervisor", "engineer", "auditor", "admin"]


def demo_site(fresh: Cli) -> Cli:
    fresh.env.update(DEMO_ENV)
    return fresh


def _pins(doc: dict[str, Any]) -> dict[str, Any]:
    return {o["role"]: (o["name"], o["pin"]) for o in doc["operators"]}


def test_the_demo_shows_one_test_operator_per_role_and_where_to_go_next(fresh: Cli) -> None:
    site = demo_site(fresh)
    first = site.json("demo", role=None)
    pins = _pins(first)
    assert list(pins) == ROLES
    assert [name for name, _ in pins.values()] == [f"demo-{r}" for r in ROLES]
    for _, pin in pins.values():
        assert pin.isdigit() and len(pin) >= 6
    assert first["next"] == [
        "stsvend vend 01234567897 20.00 --operator demo-clerk",
        f"stsvend-keypad run {site.data_dir / 'demo-meter.toml'}",
        "stsvend log verify --operator demo-auditor",
    ]
    # The same store gives the same PINs on every run; only their hashes are stored.
    second = site.json("demo", role=None)
    assert _pins(second) == pins and second["created"] == []
    hashes = [h for (h,) in site.sql("SELECT pin_hash FROM operator")]
    assert all(h.startswith("scrypt$") for h in hashes)
    assert not any(pin in h for h in hashes for _, pin in pins.values())
    text = site.ok("demo", role=None)
    for name, pin in pins.values():
        assert f"{name}" in text and pin in text
    for command in first["next"]:
        assert command in text


def test_the_demo_operators_go_on_where_the_demo_stopped(fresh: Cli) -> None:
    site = demo_site(fresh)
    pins = _pins(site.json("demo", role=None))
    clerk, auditor = pins["clerk"], pins["auditor"]
    sale = site.json("vend", "01234567897", "20.00", role=None,
                     STSVEND_OPERATOR=clerk[0], STSVEND_PIN=clerk[1])  # fmt: skip
    assert sale["receipt"] == 2 and sale["test"] is True
    listed = site.json("meters", "list", role=None, STSVEND_OPERATOR=clerk[0],
                       STSVEND_PIN=clerk[1])  # fmt: skip
    assert "01234567897" in json.dumps(listed)
    verified = site.run("log", "verify", role=None, STSVEND_OPERATOR=auditor[0],
                        STSVEND_PIN=auditor[1])  # fmt: skip
    assert verified.returncode == 0 and "no finding" in verified.stdout, verified


def test_a_pin_its_owner_changed_is_never_printed(fresh: Cli) -> None:
    site = demo_site(fresh)
    name, pin = _pins(site.json("demo", role=None))["engineer"]
    site.ok("operators", "change-pin", role=None, STSVEND_OPERATOR=name, STSVEND_PIN=pin,
            STSVEND_NEW_PIN="582047")  # fmt: skip
    again = _pins(site.json("demo", role=None))
    assert again["engineer"] == (name, None)
    assert "582047" not in site.ok("demo", role=None)


def test_reset_starts_the_demo_store_afresh(fresh: Cli) -> None:
    site = demo_site(fresh)
    if site.database_url is not None:
        proc = site.run("demo", "--reset", role=None)
        assert proc.returncode == 3 and "drop it yourself" in proc.stderr
        return
    before = site.json("demo", role=None)
    site.json("demo", role=None)
    after = site.json("demo", "--reset", role=None)
    assert "stsvend.db" in after["reset"] and after["receipt"]["receipt"] == 1
    assert after["created"] and _pins(after) != _pins(before)
    assert site.json("demo", role=None)["receipt"]["receipt"] == 2


def test_a_real_store_never_gets_the_demo(fresh: Cli) -> None:
    fresh.ok("init", "--admin", "admin", role=None, STSVEND_PIN=PINS["admin"])
    proc = fresh.run("demo", role=None)
    assert proc.returncode == exit_code_for("keystore_mode")
    assert "set up for City Power by `stsvend init`" in proc.stderr
    proc = fresh.run("demo", "--reset", role=None)
    assert proc.returncode != 0 and fresh.sql("SELECT count(*) FROM operator") == [(1,)]
    assert not (fresh.data_dir / "demo-keystore.json").exists()


def test_a_configured_currency_that_contradicts_the_demo_store(fresh: Cli) -> None:
    site = demo_site(fresh)
    site.ok("demo", role=None)
    name, pin = _pins(site.json("demo", role=None))["clerk"]
    proc = site.run("vend", "01234567897", "20.00", role=None, STSVEND_OPERATOR=name,
                    STSVEND_PIN=pin, STSVEND_CURRENCY="ZAR")  # fmt: skip
    assert proc.returncode == exit_code_for("config") == 8
    assert "STSVEND_CURRENCY=ZAR contradicts this store's currency USD" in proc.stderr
    assert "currencies differ" not in proc.stderr
    proc = site.run("demo", role=None, STSVEND_CURRENCY="ZAR")
    assert proc.returncode == 8 and "remove STSVEND_CURRENCY, or set it to USD" in proc.stderr


def test_an_older_demo_store_gets_its_operators(fresh: Cli) -> None:
    site = demo_site(fresh)
    site.json("demo", role=None)
    # As an older demo left it: no identity kept, operators with PINs nobody was told.
    site.sql("DELETE FROM setting WHERE name LIKE 'utility.%' OR name = 'demo.pin_seed'")
    site.sql("UPDATE operator SET pin_hash = :h, must_change_pin = :t",
             h="scrypt$10$8$1$00$00", t=True)  # fmt: skip
    doc = site.json("demo", role=None)
    pins = _pins(doc)
    assert all(pin for _, pin in pins.values())
    assert site.sql("SELECT value FROM setting WHERE name = 'utility.name'") == [("Demo Utility",)]
    name, pin = pins["supervisor"]
    assert site.json("shift", "status", role=None, STSVEND_OPERATOR=name, STSVEND_PIN=pin)
