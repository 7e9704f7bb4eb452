"""PIN login through the CLI as a user runs it, on SQLite and on PostgreSQL: many logins at
once against the lockout, a new PIN due at login, the admin and the break-glass unlock.

Each test builds its installation with the CLI itself (``init``, ``keys import``,
``operators add``, the new operator's first login).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from stsvend.keystore import DEMO_KEY_FILE_TEXT
from stsvend.services import pin
from tests.cli.conftest import FIRST_PIN, KEK, PINS, STSVEND, Cli
from tests.store.pgdb import temporary_database

MAX_FAILED_LOGINS = 5


class Site(Cli):
    """A CLI installation with its database URL (SQLite file or PostgreSQL)."""

    def log_entries(self, action: str) -> list[tuple[str, str, str | None, dict[str, Any]]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT operator, outcome, target, detail FROM operation_log "
                        "WHERE action = :a ORDER BY id"
                    ),
                    {"a": action},
                ).all()
        finally:
            engine.dispose()
        return [
            (r[0], r[1], r[2], json.loads(r[3]) if isinstance(r[3], str) else r[3] or {})
            for r in rows
        ]

    def operator(self, name: str) -> dict[str, Any]:
        rows = self.json("operators", "list")
        return next(o for o in rows if o["username"] == name)


@pytest.fixture
def production_pin_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """PINs set while the test runs get the program's scrypt cost (the suite lowers it,
    tests/conftest.py): for the many-logins tests, each check then holds the operator's row long
    enough for every other login to be queued behind it, as on a real installation.  Asked for
    before ``site``, so that the site's PINs are hashed at that cost."""
    monkeypatch.setattr(pin, "_LOG2_N", 14)


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    data = tmp_path / "data"
    if request.param == "postgresql":
        if not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
            pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
        with temporary_database() as url:
            yield _build(data, tmp_path, url, {"STSVEND_DATABASE_URL": url})
    else:
        yield _build(data, tmp_path, f"sqlite:///{data / 'stsvend.db'}", {})


def _build(data: Path, tmp_path: Path, url: str, env: dict[str, str]) -> Site:
    site = Site(data, env.get("STSVEND_DATABASE_URL"))
    assert site.url == url
    key_file = tmp_path / "keys.toml"
    key_file.write_text(DEMO_KEY_FILE_TEXT)
    site.ok("init", "--admin", "admin", role=None, STSVEND_PIN=PINS["admin"])
    site.ok("keys", "import", str(key_file))
    site.ok("operators", "add", "clerk", "--role", "clerk", STSVEND_NEW_PIN=FIRST_PIN)
    site.ok("shift", "status", role="clerk", STSVEND_PIN=FIRST_PIN, STSVEND_NEW_PIN=PINS["clerk"])
    return site


# -- a new PIN due at login ------------------------------------------------------------------


def test_a_new_operator_chooses_a_pin_at_the_first_login_or_gets_nothing(site: Site) -> None:
    site.ok("operators", "add", "bob", "--role", "clerk", STSVEND_NEW_PIN=FIRST_PIN)
    assert site.operator("bob")["must_change_pin"] is True
    bob = {"STSVEND_OPERATOR": "bob", "STSVEND_PIN": FIRST_PIN}
    proc = site.run("shift", "start", role=None, **bob, STSVEND_NEW_PIN="")
    assert proc.returncode == 6 and proc.stdout == ""
    assert "must choose a new PIN" in proc.stderr and "STSVEND_NEW_PIN" in proc.stderr
    for weak in ("1234", "55555", "111111", "123456", "12345a"):
        proc = site.run("shift", "start", role=None, **bob, STSVEND_NEW_PIN=weak)
        assert proc.returncode == 3 and "PIN" in proc.stderr and weak not in proc.stderr
    proc = site.run("shift", "start", role=None, **bob, STSVEND_NEW_PIN=FIRST_PIN)
    assert proc.returncode == 3 and "differ" in proc.stderr
    assert site.operator("bob")["must_change_pin"] is True
    out = site.ok("shift", "start", role=None, **bob, STSVEND_NEW_PIN="582047")
    assert "shift" in out and "open" in out  # the command went on after the change
    assert site.operator("bob")["must_change_pin"] is False
    bob["STSVEND_PIN"] = "582047"
    assert site.json("shift", "status", role=None, **bob, STSVEND_NEW_PIN="")["shift"] is not None
    stale = {**bob, "STSVEND_PIN": FIRST_PIN}
    assert site.run("shift", "status", role=None, **stale).returncode == 6
    reasons = [d.get("reason") for op, _, _, d in site.log_entries("login") if op == "bob"]
    assert reasons[0] == "PIN change required" and reasons[-1] == "wrong PIN"


def test_a_pin_set_by_an_admin_is_changed_by_its_owner(site: Site) -> None:
    site.ok("operators", "set-pin", "clerk", STSVEND_NEW_PIN="246813")
    assert site.operator("clerk")["must_change_pin"] is True
    proc = site.run("shift", "status", role="clerk", STSVEND_PIN="246813", STSVEND_NEW_PIN="")
    assert proc.returncode == 6 and "new PIN" in proc.stderr
    proc = site.run("operators", "set-pin", "clerk", STSVEND_NEW_PIN="12345")
    assert proc.returncode == 3 and "6 to 12" in proc.stderr
    # An operator changes their own PIN when they like.
    site.ok("operators", "change-pin", role="clerk", STSVEND_PIN="246813",
            STSVEND_NEW_PIN="864213")  # fmt: skip
    site.ok("shift", "status", role="clerk", STSVEND_PIN="864213", STSVEND_NEW_PIN="")
    proc = site.run("operators", "change-pin", role="clerk", STSVEND_PIN="864213",
                    STSVEND_NEW_PIN="")  # fmt: skip
    assert proc.returncode == 3 and "no new PIN" in proc.stderr


def test_no_pin_option_takes_a_value_on_the_command_line(site: Site) -> None:
    for command in (["operators", "unlock"], ["operators", "change-pin"], ["shift", "status"]):
        help_text = site.ok(*command, "--help", role=None)
        assert "--pin " not in help_text and "--kek" not in help_text
        assert "--new-pin " not in help_text


# -- unlocking ---------------------------------------------------------------------------------


def _lock(site: Site, role: str) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        proc = site.run("shift", "status", role=role, STSVEND_PIN="999999")
        assert proc.returncode == 6
    assert "locked" in proc.stderr and "break-glass" in proc.stderr
    proc = site.run("shift", "status", role=role)
    assert proc.returncode == 6 and "locked" in proc.stderr


def test_an_admin_unlocks_a_clerk(site: Site) -> None:
    _lock(site, "clerk")
    proc = site.run("operators", "unlock", "clerk", role="clerk")
    assert proc.returncode == 6
    assert "unlocked" in site.ok("operators", "unlock", "clerk")
    proc = site.run("shift", "status", role="clerk", STSVEND_NEW_PIN="")
    assert proc.returncode == 6 and "new PIN" in proc.stderr
    site.ok("shift", "status", role="clerk", STSVEND_NEW_PIN="582047")
    assert site.log_entries("operators.unlock")[-1][:3] == ("admin", "ok", "clerk")


def test_every_admin_locked_out_the_break_glass_unlock_needs_the_kek(site: Site) -> None:
    _lock(site, "admin")
    unlock = ("operators", "unlock", "admin", "--break-glass")
    proc = site.run(*unlock, role=None, STSVEND_KEK="")
    assert proc.returncode == 4 and "key-encryption key" in proc.stderr
    proc = site.run(*unlock, role=None, STSVEND_KEK="5b" * 32)
    assert proc.returncode == 4
    proc = site.run(*unlock, role=None, STSVEND_KEK="", STSVEND_KEK_PASSPHRASE="guess it 1234")
    assert proc.returncode == 4
    assert site.log_entries("operators.unlock") == []
    assert site.run("shift", "status", role="admin").returncode == 6
    proc = site.run(*unlock, "--json", role=None)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["must_change_pin"] is True
    assert KEK not in proc.stdout + proc.stderr
    ((who, outcome, target, detail),) = site.log_entries("operators.unlock")
    assert (who, outcome, target) == ("break-glass", "ok", "admin") and detail["break_glass"]
    # The admin is back, and chooses a new PIN before anything else.
    proc = site.run("operators", "list", STSVEND_NEW_PIN="")
    assert proc.returncode == 6 and "new PIN" in proc.stderr
    # STSVEND_NEW_PIN is the new operator's PIN here: it is not taken as the admin's own.
    proc = site.run("operators", "add", "bob", "--role", "clerk", STSVEND_NEW_PIN=FIRST_PIN)
    assert proc.returncode == 6 and "change-pin" in proc.stderr
    site.ok("operators", "change-pin", STSVEND_NEW_PIN="582047")
    rows = site.json("operators", "list", STSVEND_PIN="582047")
    assert [o["username"] for o in rows] == ["admin", "clerk"]


def test_the_break_glass_unlock_can_set_a_temporary_pin(site: Site) -> None:
    _lock(site, "admin")
    site.ok("operators", "unlock", "admin", "--break-glass", "--set-pin", role=None,
            STSVEND_NEW_PIN="736251")  # fmt: skip
    assert site.run("shift", "status", role="admin", STSVEND_NEW_PIN="").returncode == 6
    site.ok("shift", "status", role="admin", STSVEND_PIN="736251", STSVEND_NEW_PIN="582047")


def test_the_demo_keystore_gives_no_break_glass(tmp_path: Path) -> None:
    site = Site(tmp_path / "demo")
    # The demo store keeps the demo utility's identity, which the harness's would contradict.
    site.env.update(STSVEND_CURRENCY="USD", STSVEND_TIMEZONE="UTC",
                    STSVEND_UTILITY_NAME="Demo Utility", STSVEND_TAX_NUMBER="TAX-000000")
    shown = site.json("demo", role=None, STSVEND_KEK="")["operators"]
    proc = site.run("operators", "unlock", "demo-clerk", "--break-glass", role=None)
    assert proc.returncode == 4 and "demo keystore" in proc.stderr
    # The demo's TEST operators have the PINs the demo printed: none is due for a change.
    engine = create_engine(site.url)
    try:
        with engine.connect() as conn:
            flags = conn.execute(text("SELECT must_change_pin FROM operator")).scalars().all()
    finally:
        engine.dispose()
    assert len(flags) == len(shown) == 5 and not any(flags)


# -- many logins at once ---------------------------------------------------------------------


def _spawn(site: Site, pin: str) -> subprocess.Popen[str]:
    env = {**site.base_env("clerk"), "STSVEND_PIN": pin, "STSVEND_NEW_PIN": ""}
    return subprocess.Popen(
        [*STSVEND, "shift", "status"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _waiting_on_locks(admin: Any, database: str) -> int:
    with admin.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                    "AND wait_event_type = 'Lock'"
                ),
                {"d": database},
            ).scalar_one()
        )


def test_concurrent_logins_on_postgresql_cannot_pass_the_lockout(
    production_pin_cost: None, site: Site
) -> None:
    if not site.url.startswith("postgresql"):
        pytest.skip("the row lock of PostgreSQL (SQLite: the next test)")
    from sqlalchemy.engine import make_url

    database = make_url(site.url).database
    assert database
    holder = create_engine(site.url)
    watcher = create_engine(site.url)
    wrong = range(31)
    procs: list[subprocess.Popen[str]] = []
    try:
        with holder.connect() as conn:
            # Hold the clerk's row, so that every login below is in flight at once.
            tx = conn.begin()
            conn.execute(text("SELECT id FROM operator WHERE username = 'clerk' FOR UPDATE"))
            procs = [_spawn(site, f"9{i:05d}") for i in wrong]
            deadline = time.monotonic() + 300
            while _waiting_on_locks(watcher, database) < len(wrong):
                assert time.monotonic() < deadline, "the logins never waited for the row"
                time.sleep(0.2)
            # The right PIN comes last, while 31 wrong ones wait.
            procs.append(_spawn(site, PINS["clerk"]))
            while _waiting_on_locks(watcher, database) < len(wrong) + 1:
                assert time.monotonic() < deadline, "the right PIN never waited for the row"
                time.sleep(0.2)
            tx.rollback()
        results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        holder.dispose()
        watcher.dispose()
    assert all(code == 6 for code, _ in results), results
    assert "locked" in results[-1][1]
    checked = [d.get("reason") for op, _, _, d in site.log_entries("login") if op == "clerk"]
    assert checked[-32:].count("wrong PIN") == MAX_FAILED_LOGINS
    assert checked[-32:].count("locked") == 32 - MAX_FAILED_LOGINS
    assert site.operator("clerk")["failed_logins"] >= MAX_FAILED_LOGINS


def test_concurrent_logins_are_judged_one_after_the_other(
    production_pin_cost: None, site: Site
) -> None:
    procs = [_spawn(site, f"9{i:05d}") for i in range(15)] + [_spawn(site, PINS["clerk"])]
    results = [p.wait(timeout=300) for p in procs]
    for p in procs:
        for stream in (p.stdout, p.stderr):
            if stream:
                assert "Traceback" not in stream.read()
    assert results[:-1] == [6] * 15 and results[-1] in (0, 6)
    run = 0
    logins = [(outcome, detail) for op, outcome, _, detail in site.log_entries("login")
              if op == "clerk"]  # fmt: skip
    for outcome, detail in logins[-len(procs) :]:
        if outcome == "ok":
            assert run < MAX_FAILED_LOGINS
            run = 0
        elif detail.get("reason") == "wrong PIN":
            run += 1
            assert run <= MAX_FAILED_LOGINS
        else:
            assert detail.get("reason") == "locked" and run >= MAX_FAILED_LOGINS
    assert site.run("shift", "status", role="clerk").returncode == 6
