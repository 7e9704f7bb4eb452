"""The utility's identity (:mod:`stsvend.services.identity`) and the demo store's derived PINs
(:mod:`stsvend.services.demo_operators`): known answers, every refusal, properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend.config import load_config
from stsvend.errors import InputError
from stsvend.services.demo_operators import DEMO_ROLES, derive_pin
from stsvend.services.identity import (
    DEMO_IDENTITY,
    IdentityConflict,
    UtilityIdentity,
    apply_identity,
    read_identity,
    write_identity,
)
from stsvend.services.pin import check_new_pin
from stsvend.store.uow import Store

CITY = UtilityIdentity.parse("City Power", "VAT-4012345678", "zar", " Africa/Johannesburg ")


def test_parse_normalises() -> None:
    assert UtilityIdentity("City Power", "VAT-4012345678", "ZAR", "Africa/Johannesburg") == CITY


@pytest.mark.parametrize(
    ("values", "message"),
    [(("", "T", "ZAR", "UTC"), "utility name must not be empty"),
     (("U", " ", "ZAR", "UTC"), "tax number must not be empty"),
     (("U", "T", "XXX", "UTC"), "unknown currency"),
     (("U", "T", "ZAR", "Mars/Base"), "unknown time zone"),
     (("U", "T", "ZAR", "../etc/passwd"), "unknown time zone"),
     (("U\x00", "T", "ZAR", "UTC"), "printable"),
     (("U" * 81, "T", "ZAR", "UTC"), "at most 80")],
)  # fmt: skip
def test_bad_values_are_refused(values: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        UtilityIdentity.parse(*values)


def test_the_store_fills_what_the_configuration_leaves_out() -> None:
    config = load_config({"STSVEND_DATA_DIR": "/x"})
    assert config.utility_name == "" and config.tax_number == ""  # never a made-up utility
    applied = apply_identity(config, CITY)
    assert (applied.utility_name, applied.currency, applied.timezone) == (
        "City Power", "ZAR", "Africa/Johannesburg")  # fmt: skip
    assert apply_identity(config, None) is config
    same = load_config({"STSVEND_DATA_DIR": "/x", "STSVEND_CURRENCY": "ZAR"})
    assert apply_identity(same, CITY).currency == "ZAR"


def test_a_contradiction_names_its_source(tmp_path: Path) -> None:
    env = load_config({"STSVEND_DATA_DIR": "/x", "STSVEND_TIMEZONE": "UTC"})
    with pytest.raises(IdentityConflict, match="STSVEND_TIMEZONE=UTC contradicts this store's "
                       "time zone Africa/Johannesburg"):  # fmt: skip
        apply_identity(env, CITY)
    path = tmp_path / "config.toml"
    path.write_text('utility_name = "Other"\n', encoding="utf-8")
    filed = load_config({"STSVEND_DATA_DIR": str(tmp_path), "STSVEND_CONFIG": str(path)})
    assert filed.source_of("utility_name") == str(path)
    with pytest.raises(IdentityConflict, match=f"remove utility_name from {path}"):
        apply_identity(filed, CITY)


def test_kept_and_read_back() -> None:
    store = Store.open("sqlite://", create=True)
    with store.transaction() as conn:
        assert read_identity(conn) is None
        write_identity(conn, CITY)
        assert read_identity(conn) == CITY
        write_identity(conn, DEMO_IDENTITY)  # no token yet: anything may change
        assert read_identity(conn) == DEMO_IDENTITY
    store.dispose()


def test_demo_pins_known_answers() -> None:
    assert {r: derive_pin(bytes(16), r) for r in DEMO_ROLES} == {
        "clerk": "91516711", "supervisor": "60605006", "engineer": "40559136",
        "auditor": "11815763", "admin": "34279554"}  # fmt: skip


@given(seed=st.binary(min_size=16, max_size=16), role=st.sampled_from(DEMO_ROLES))
def test_demo_pins_are_good_pins_of_their_seed(seed: bytes, role: str) -> None:
    pin = derive_pin(seed, role)
    assert len(pin) == 8 and check_new_pin(pin) == pin == derive_pin(seed, role)
