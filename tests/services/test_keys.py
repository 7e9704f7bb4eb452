"""The key custody services, in-process: authorization first, frozen results, the KEKs read
from the given environment by one function."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from stsvend.keystore import (
    DEMO_KEY_FILE_TEXT,
    KekError,
    KekSource,
    KeystoreFileError,
    KeystoreMode,
    KeystoreModeError,
    PublishedTestKeyError,
    SealedKeystore,
    WrongKekError,
)
from stsvend.services import keys
from stsvend.services.bootstrap import keystore_path, log_key_of
from stsvend.vending.errors import PermissionDenied
from stsvend.vending.roles import Action, Role, is_allowed
from tests.services.helpers import Installation, installation

KEK = {"STSVEND_KEK": "7e" * 32}
NEW = {"STSVEND_NEW_KEK": "8f" * 32}
ROLES = ("clerk", "supervisor", "engineer", "auditor", "admin")


@pytest.fixture()
def inst(tmp_path: Path) -> Iterator[Installation]:
    with installation(STSVEND_DATA_DIR=str(tmp_path / "data")) as it:
        yield it


@pytest.fixture()
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.toml"
    path.write_text(DEMO_KEY_FILE_TEXT)
    return path


def _operations(inst: Installation, action: str) -> list[tuple[str, str]]:
    with inst.svc.store.transaction() as conn:
        rows = conn.exec_driver_sql(
            "SELECT operator, outcome FROM operation_log WHERE action = ? ORDER BY id", (action,)
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_import_returns_a_frozen_result(inst: Installation, demo_file: Path) -> None:
    result = keys.import_keys(inst.svc, inst.admin, demo_file, env=KEK)
    assert isinstance(result, keys.KeyImportResult)
    assert [r.key_id for r in result.added] == [
        "123456/1/VUDK", "123456/1/VDDK", "123456/2/VUDK", "123457/1/VUDK", "123457/4/VUDK",
    ]  # fmt: skip
    assert (result.unchanged, result.test) == (0, True)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.unchanged = 1  # type: ignore[misc]
    again = keys.import_keys(inst.svc, inst.admin, demo_file, env=KEK)
    assert (again.added, again.unchanged) == ((), 5)
    assert _operations(inst, "keys.import") == [("admin", "ok"), ("admin", "ok")]
    store = SealedKeystore.open(keystore_path(inst.svc.config), KekSource.from_hex("7e" * 32))
    assert store.mode is KeystoreMode.TEST and len(store) == 5


def test_a_production_file_with_a_published_key_is_refused_and_logged(
    inst: Installation, tmp_path: Path
) -> None:
    path = tmp_path / "production.toml"
    path.write_text(DEMO_KEY_FILE_TEXT.replace("test = true", "test = false"))
    with pytest.raises(PublishedTestKeyError):
        keys.import_keys(inst.svc, inst.admin, path, env=KEK)
    assert _operations(inst, "keys.import") == [("admin", "refused")]
    assert not keystore_path(inst.svc.config).exists()


@pytest.mark.parametrize("role", ROLES)
def test_authorization_comes_first(inst: Installation, role: str, tmp_path: Path) -> None:
    actor = inst.actors[role]
    missing = tmp_path / "no-such-file.toml"
    if is_allowed(Role(role), Action.KEYS_IMPORT):
        with pytest.raises(KeystoreFileError, match="no keystore"):
            keys.change_kek(inst.svc, actor, env={**KEK, **NEW})
        return
    # Refused before the key file, the keystore or the KEK variables are looked at.
    with pytest.raises(PermissionDenied, match="may not import a key file"):
        keys.import_keys(inst.svc, actor, missing, env={})
    with pytest.raises(PermissionDenied, match="may not import a key file"):
        keys.change_kek(inst.svc, actor, env={})
    assert _operations(inst, "keys.import") == [(role, "refused"), (role, "refused")]


@pytest.mark.parametrize("role", ROLES)
def test_listing(inst: Installation, role: str) -> None:
    actor = inst.actors[role]
    if not is_allowed(Role(role), Action.KEYS_LIST):
        with pytest.raises(PermissionDenied):
            keys.list_keys(inst.svc, actor)
        return
    listing = keys.list_keys(inst.svc, actor)
    assert listing.test is True and len(listing.keys) == 5
    assert [r.key_id for r in listing.keys] == sorted(r.key_id for r in listing.keys)


def test_change_kek(inst: Installation, demo_file: Path) -> None:
    keys.import_keys(inst.svc, inst.admin, demo_file, env=KEK)
    path = keystore_path(inst.svc.config)
    before = log_key_of(SealedKeystore.open(path, KekSource.from_hex("7e" * 32))).check_value
    result = keys.change_kek(inst.svc, inst.admin, env={**KEK, **NEW})
    assert result == keys.KekChangeResult(
        str(keystore_path(inst.svc.config)), KeystoreMode.TEST, 5, "raw", result.log_key
    )
    with pytest.raises(WrongKekError):
        SealedKeystore.open(path, KekSource.from_hex("7e" * 32))
    reopened = SealedKeystore.open(path, KekSource.from_hex("8f" * 32))
    assert len(reopened) == 5 and result.log_key == log_key_of(reopened).check_value == before
    assert _operations(inst, "keys.change-kek") == [("admin", "ok")]
    with pytest.raises(KekError, match="is the one in use"):
        keys.change_kek(inst.svc, inst.admin, env={"STSVEND_KEK": "8f" * 32, **NEW})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no new key-encryption key: set STSVEND_NEW_KEK (64 hex digits), "
             "STSVEND_NEW_KEK_FILE or STSVEND_NEW_KEK_PASSPHRASE; nothing was changed"),
        ({"STSVEND_NEW_KEK": "12"}, "STSVEND_NEW_KEK must be 64 hexadecimal digits; nothing"),
        ({"STSVEND_NEW_KEK_PASSPHRASE": "short"},
         "STSVEND_NEW_KEK_PASSPHRASE: a KEK passphrase has at least 8 characters; nothing"),
        ({"STSVEND_NEW_KEK": "8f" * 32, "STSVEND_NEW_KEK_FILE": "x"},
         "set only one of STSVEND_NEW_KEK, STSVEND_NEW_KEK_FILE; nothing was changed"),
    ],
)  # fmt: skip
def test_the_new_kek_variables(env: dict[str, str], message: str) -> None:
    with pytest.raises(KekError) as info:
        keys.new_kek_from_env(env)
    assert info.value.message.startswith(message)


def test_a_demo_only_installation_has_no_kek_to_change(inst: Installation) -> None:
    from stsvend.keystore import open_demo_keystore

    open_demo_keystore(inst.svc.config.data_dir)
    with pytest.raises(KeystoreModeError, match="demo keystore"):
        keys.change_kek(inst.svc, inst.admin, env={**KEK, **NEW})
