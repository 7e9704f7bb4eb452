"""The installation's keystore and log key: the log stays verifiable across a change of KEK."""

from __future__ import annotations

from pathlib import Path

from stsvend.config import load_config
from stsvend.keystore.kek import KekSource
from stsvend.keystore.sealed import SealedKeystore
from stsvend.services.bootstrap import create_keystore, keystore_path, open_keystore


def test_the_log_key_survives_a_change_of_kek(tmp_path: Path) -> None:
    config = load_config({"STSVEND_DATA_DIR": str(tmp_path)})
    old_env = {"STSVEND_KEK": "11" * 32}
    new_env = {"STSVEND_KEK": "22" * 32}
    create_keystore(config, test=False, env=old_env)
    opened = open_keystore(config, old_env)
    assert opened is not None
    _, log_key = opened

    SealedKeystore.open(keystore_path(config), KekSource.from_environment(old_env)).change_kek(
        KekSource.from_environment(new_env)
    )
    reopened = open_keystore(config, new_env)
    assert reopened is not None
    assert reopened[1].check_value == log_key.check_value


def test_no_keystore_means_no_services(tmp_path: Path) -> None:
    config = load_config({"STSVEND_DATA_DIR": str(tmp_path)})
    assert open_keystore(config, {}) is None
