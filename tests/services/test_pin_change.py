"""PIN rules: the 6-digit minimum, a new PIN due after someone else set one, the admin unlock
and the break-glass unlock; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from stsvend.errors import InputError
from stsvend.keystore import KekSource, SealedKeystore, demo_key_file
from stsvend.keystore.errors import KekError, KeystoreFileError, WrongKekError
from stsvend.services import auth
from stsvend.services.bootstrap import LogKeyMismatch, create_keystore, keystore_path
from stsvend.services.pin import (
    MIN_PIN_LENGTH,
    WeakPinError,
    check_new_pin,
    hash_pin,
    random_pin,
    verify_pin,
)
from stsvend.services.recovery import BREAK_GLASS, break_glass_unlock
from stsvend.store.migrate import upgrade
from stsvend.store.repos.settings import put_setting
from stsvend.vending.errors import PermissionDenied
from tests.services.helpers import FIRST_PIN, PINS, Installation
from tests.services.saved import Bare
from tests.store.pgdb import temporary_database

KEK = "6b" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not os.environ.get("STSVEND_TEST_POSTGRES_URL"):
        pytest.skip("STSVEND_TEST_POSTGRES_URL is not set")
    return str(request.param)


@pytest.fixture
def url(kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database."""
    if kind == "postgresql":
        with temporary_database() as pg_url:
            yield pg_url
    else:
        yield f"sqlite:///{tmp_path / 'pins.db'}"


@pytest.fixture
def site(kind: str, bare: Bare, tmp_path: Path) -> Iterator[Installation]:
    with bare.copy(kind, tmp_path, STSVEND_DATA_DIR=str(tmp_path / "data")) as (_, inst):
        yield inst


def flags(inst: Installation) -> dict[str, tuple[int, bool]]:
    with inst.svc.store.transaction() as conn:
        rows = conn.execute(
            text("SELECT username, failed_logins, must_change_pin FROM operator")
        ).all()
    return {r[0]: (int(r[1]), bool(r[2])) for r in rows}


def operations(inst: Installation, action: str) -> list[tuple[str, str, str | None, Any]]:
    with inst.svc.store.transaction() as conn:
        rows = conn.execute(
            text(
                "SELECT operator, outcome, target, detail FROM operation_log "
                "WHERE action = :a ORDER BY id"
            ),
            {"a": action},
        ).all()
    return [(r[0], r[1], r[2], json.loads(r[3]) if isinstance(r[3], str) else r[3]) for r in rows]


def lock(inst: Installation, username: str) -> None:
    for _ in range(auth.MAX_FAILED_LOGINS):
        with pytest.raises(PermissionDenied):
            auth.login(inst.svc, username, "999999")


# -- the PIN rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pin", ["12345", "1234", "", "1234567890123", "12a456", "１２３４５６", " 482915", "48291.5"]
)
def test_a_new_pin_is_six_to_twelve_plain_digits(pin: str) -> None:
    with pytest.raises(WeakPinError, match="6 to 12"):
        check_new_pin(pin)
    with pytest.raises(WeakPinError):
        hash_pin(pin)


@pytest.mark.parametrize("pin", ["000000", "777777777", "123456", "654321", "0123456789"])
def test_a_new_pin_is_not_a_first_guess(pin: str) -> None:
    with pytest.raises(WeakPinError, match=r"repeated|run of consecutive digits"):
        check_new_pin(pin)


@pytest.mark.parametrize("pin", ["482915", "112233", "121212", "135790", "900000000001"])
def test_ordinary_pins_are_accepted(pin: str) -> None:
    assert check_new_pin(pin) == pin


@given(st.text(alphabet="0123456789", min_size=MIN_PIN_LENGTH, max_size=12))
def test_every_digit_string_of_a_right_length_is_judged_by_its_pattern_only(pin: str) -> None:
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    weak = len(set(pin)) == 1 or steps in ({1}, {-1})
    try:
        check_new_pin(pin)
    except WeakPinError as exc:
        assert weak and exc.code == "weak_pin" and pin not in exc.message
    else:
        assert not weak


def test_a_weak_pin_is_an_input_error_and_a_random_pin_is_never_weak() -> None:
    assert issubclass(WeakPinError, InputError)
    assert all(check_new_pin(random_pin()) for _ in range(50))
    assert len(random_pin()) == 12


def test_an_old_short_pin_still_verifies_so_that_its_owner_can_replace_it() -> None:
    from stsvend.services import pin

    salt = bytes(16)
    digest = pin._scrypt("4821", salt, pin._LOG2_N, pin._R, pin._P).hex()
    stored = f"scrypt${pin._LOG2_N}${pin._R}${pin._P}${salt.hex()}${digest}"
    assert verify_pin("4821", stored) and not verify_pin("4822", stored)


# -- a PIN set by someone else must be changed ---------------------------------------------------


def test_an_operator_added_by_an_admin_must_choose_a_new_pin(site: Installation) -> None:
    auth.add_operator(site.svc, site.admin, "bob", "clerk", FIRST_PIN)
    assert flags(site)["bob"] == (0, True)
    with pytest.raises(auth.PinChangeRequired, match="must choose a new PIN") as err:
        auth.login(site.svc, "bob", FIRST_PIN)
    assert err.value.code == "pin_change_required" and isinstance(err.value, PermissionDenied)
    # The PIN was right: the refusal is logged but is no wrong PIN.
    assert flags(site)["bob"] == (0, True)
    assert operations(site, "login")[-1][:2] == ("bob", "refused")
    assert operations(site, "login")[-1][3] == {"reason": "PIN change required"}
    with pytest.raises(WeakPinError):
        auth.login(site.svc, "bob", FIRST_PIN, new_pin="1234")
    with pytest.raises(WeakPinError, match="differ"):
        auth.login(site.svc, "bob", FIRST_PIN, new_pin=FIRST_PIN)
    assert flags(site)["bob"] == (0, True)
    actor = auth.login(site.svc, "bob", FIRST_PIN, new_pin="582047")
    assert actor.username == "bob" and flags(site)["bob"] == (0, False)
    assert operations(site, "login")[-1][3] == {"pin_changed": True}
    assert auth.login(site.svc, "bob", "582047").username == "bob"
    with pytest.raises(PermissionDenied, match="wrong PIN"):
        auth.login(site.svc, "bob", FIRST_PIN)


def test_a_wrong_pin_with_a_new_one_changes_nothing(site: Installation) -> None:
    auth.add_operator(site.svc, site.admin, "bob", "clerk", FIRST_PIN)
    with pytest.raises(PermissionDenied, match="wrong PIN"):
        auth.login(site.svc, "bob", "999999", new_pin="582047")
    assert flags(site)["bob"] == (1, True)
    with pytest.raises(PermissionDenied):
        auth.login(site.svc, "bob", "582047")


def test_a_pin_set_by_an_admin_is_due_for_change_unless_it_is_their_own(
    site: Installation,
) -> None:
    auth.set_pin(site.svc, site.admin, "clerk", "246813")
    auth.set_pin(site.svc, site.admin, "admin", "864213")
    assert flags(site)["clerk"] == (0, True) and flags(site)["admin"] == (0, False)
    with pytest.raises(auth.PinChangeRequired):
        auth.login(site.svc, "clerk", "246813")
    assert auth.login(site.svc, "admin", "864213").username == "admin"
    with pytest.raises(WeakPinError):
        auth.set_pin(site.svc, site.admin, "clerk", "11111")


def test_the_first_admin_chose_their_own_pin(site: Installation) -> None:
    assert flags(site)["admin"] == (0, False)


# -- unlocking -----------------------------------------------------------------------------------


def test_an_admin_unlocks_an_operator_who_then_chooses_a_new_pin(site: Installation) -> None:
    lock(site, "clerk")
    with pytest.raises(PermissionDenied, match="locked"):
        auth.login(site.svc, "clerk", PINS["clerk"])
    with pytest.raises(PermissionDenied):
        auth.unlock_operator(site.svc, site.supervisor, "clerk")
    auth.unlock_operator(site.svc, site.admin, "clerk")
    assert flags(site)["clerk"] == (0, True)
    assert operations(site, "operators.unlock") == [
        ("admin", "ok", "clerk", {"failed_logins": auth.MAX_FAILED_LOGINS + 1})
    ]
    auth.login(site.svc, "clerk", PINS["clerk"], new_pin="582047")


def _keystore(inst: Installation, kek: str = KEK) -> None:
    env = {"STSVEND_KEK": kek}
    inst.svc.config.data_dir.mkdir(parents=True, mode=0o700)
    create_keystore(inst.svc.config, test=True, env=env)
    store = SealedKeystore.open(keystore_path(inst.svc.config), KekSource.from_hex(kek))
    store.import_key_file(demo_key_file())


def test_every_admin_locked_out_the_break_glass_unlock_needs_the_kek(site: Installation) -> None:
    _keystore(site)
    lock(site, "admin")
    before = flags(site)
    with pytest.raises(WrongKekError):
        break_glass_unlock(site.svc, "admin", KekSource.from_hex("5a" * 32))
    with pytest.raises(KekError):
        break_glass_unlock(site.svc, "admin", KekSource.passphrase("a guessed passphrase"))
    assert flags(site) == before and operations(site, "operators.unlock") == []
    done = break_glass_unlock(site.svc, "admin", KekSource.from_hex(KEK))
    assert done.operator == "admin" and done.must_change_pin and not done.pin_set
    assert flags(site)["admin"] == (0, True)
    (entry,) = operations(site, "operators.unlock")
    assert entry[:3] == (BREAK_GLASS, "ok", "admin")
    assert entry[3]["break_glass"] is True and entry[3]["kek"] == "raw"
    assert KEK not in json.dumps(entry[3])
    with pytest.raises(auth.PinChangeRequired):
        auth.login(site.svc, "admin", PINS["admin"])
    auth.login(site.svc, "admin", PINS["admin"], new_pin="582047")


def test_the_break_glass_unlock_can_set_a_temporary_pin(site: Installation) -> None:
    _keystore(site)
    lock(site, "admin")
    break_glass_unlock(site.svc, "admin", KekSource.from_hex(KEK), new_pin="736251")
    with pytest.raises(PermissionDenied):
        auth.login(site.svc, "admin", PINS["admin"])
    with pytest.raises(auth.PinChangeRequired):
        auth.login(site.svc, "admin", "736251")
    with pytest.raises(WeakPinError):
        break_glass_unlock(site.svc, "admin", KekSource.from_hex(KEK), new_pin="4444")


def test_no_break_glass_without_the_installations_own_keystore(site: Installation) -> None:
    lock(site, "admin")
    with pytest.raises(KeystoreFileError, match="no keystore"):
        break_glass_unlock(site.svc, "admin", KekSource.from_hex(KEK))
    from stsvend.keystore.demo import open_demo_keystore

    site.svc.config.data_dir.mkdir(parents=True, mode=0o700)
    open_demo_keystore(site.svc.config.data_dir)
    with pytest.raises(KeystoreFileError, match="demo keystore"):
        break_glass_unlock(site.svc, "admin", KekSource.from_hex(KEK))
    assert flags(site)["admin"][0] == auth.MAX_FAILED_LOGINS


def test_no_break_glass_with_another_installations_keystore(site: Installation) -> None:
    _keystore(site)
    with site.svc.store.transaction() as conn:
        put_setting(conn, "log_key_check", "0123456789abcdef")
    lock(site, "admin")
    with pytest.raises(LogKeyMismatch, match="not this store's"):
        break_glass_unlock(site.svc, "admin", KekSource.from_hex(KEK))
    assert flags(site)["admin"][0] == auth.MAX_FAILED_LOGINS


def test_break_glass_for_an_unknown_operator_is_not_found(site: Installation) -> None:
    from stsvend.store.errors import RecordNotFoundError

    _keystore(site)
    with pytest.raises(RecordNotFoundError):
        break_glass_unlock(site.svc, "nobody", KekSource.from_hex(KEK))


# -- the migration -------------------------------------------------------------------------------


def test_the_migration_makes_every_existing_operator_choose_a_new_pin(url: str) -> None:
    engine = create_engine(url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as conn:
            for name in ("ann", "ben"):
                conn.execute(
                    text(
                        "INSERT INTO operator (username, role, pin_hash, active, failed_logins, "
                        "created_at) VALUES (:n, 'clerk', 'scrypt$x', true, 0, '2026-01-01')"
                    ),
                    {"n": name},
                )
        upgrade(engine)
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT username, must_change_pin FROM operator")).all()
            conn.execute(
                text(
                    "INSERT INTO operator (username, role, pin_hash, active, failed_logins, "
                    "created_at, must_change_pin) VALUES ('cy', 'clerk', 'x', true, 0, "
                    "'2026-01-01', false)"
                )
            )
    finally:
        engine.dispose()
    assert sorted((r[0], bool(r[1])) for r in rows) == [("ann", True), ("ben", True)]
