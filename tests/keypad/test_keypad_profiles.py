"""Profile TOML: the sample, every setting reaching the MeterProfile, and every error path."""

from __future__ import annotations

from pathlib import Path

import pytest

from stsvend.meter import EmergencyPolicy, MeterConfigError, RegisterKind
from stsvend.sts import EA, KeyType
from stsvend_keypad.profiles import SAMPLE_PROFILE, load_profile, parse_profile, state_path_for
from tests.keypad.keypad_support import SAMPLE_KEY

MINIMAL = """
[meter]
drn = "00000000000"
[key]
sgc = "123456"
ti = 1
krn = 1
key_type = 2
base_date = 2014
vending_key = "abababababababab"
"""


def test_sample_profile() -> None:
    loaded = parse_profile(SAMPLE_PROFILE, "sample")
    profile = loaded.profile
    assert loaded.name == "Test meter 1"
    assert profile.decoder_key == SAMPLE_KEY
    assert loaded.start_credit == {RegisterKind.ELECTRICITY: 200}
    assert profile.emergency_policy is EmergencyPolicy.METER
    assert (profile.emergency_allowance, profile.emergency_threshold) == (50, 20)
    assert (KeyType.DUTK, KeyType.DDTK) in profile.refused_key_type_changes
    assert len(profile.refused_key_type_changes) == 6
    assert loaded.manufactured is not None and loaded.manufactured.year == 2024


def test_minimal_profile_takes_the_model_defaults() -> None:
    loaded = parse_profile(MINIMAL, "minimal")
    assert loaded.name == "00000000000"
    assert loaded.manufactured is None and loaded.start_credit == {}
    assert loaded.profile.tid_memory_depth == 50
    assert loaded.profile.key_change_window_seconds == 600


def test_every_setting_is_read() -> None:
    text = MINIMAL.replace(
        'vending_key = "abababababababab"', f'decoder_key = "{SAMPLE_KEY.hex()}"'
    )
    text += """
[registers]
present = ["electricity currency", "water"]
consumption = "electricity_currency"
price = 2.5
start = { electricity_currency = "12.34567", water = 3 }
unit_limit = "500.0"
currency_limit = 1000
[limits]
max_power = 4000
[emergency]
policy = "vending"
[behaviour]
tid_memory_depth = 7
key_change_window = 120
lockout_threshold = 4
lockout_first = 5
lockout_max = 40
refused_key_type_changes = ["1->*"]
credit_refused_key_types = [1]
test_token_forms = [0]
tamper_opens_relay = false
"""
    profile = parse_profile(text, "full").profile
    assert profile.registers == {RegisterKind.ELECTRICITY_CURRENCY, RegisterKind.WATER}
    assert profile.price == 250_000
    assert parse_profile(text, "full").start_credit == {
        RegisterKind.ELECTRICITY_CURRENCY: 1_234_567,
        RegisterKind.WATER: 30,
    }
    assert (profile.unit_register_limit, profile.currency_register_limit) == (5000, 100_000_000)
    assert profile.max_power_limit == 4000
    assert profile.emergency_policy is EmergencyPolicy.VENDING
    assert profile.tid_memory_depth == 7 and profile.key_change_window_seconds == 120
    assert (profile.lockout.threshold, profile.lockout.first_seconds) == (4, 5)
    assert profile.refused_key_type_changes == {(KeyType.DDTK, kt) for kt in KeyType}
    assert profile.credit_refused_key_types == {KeyType.DDTK}
    assert profile.test_token_subclasses == {0}
    assert profile.tamper_opens_relay is False


def test_ea11_profile_with_dkga04() -> None:
    text = MINIMAL.replace('vending_key = "abababababababab"',
                           'ea = "11"\nvending_key = "abababababababab949494949494949401234567"\n'
                           'dkga = "04"')  # fmt: skip
    profile = parse_profile(text, "ea11").profile
    assert profile.decoder_key.ea is EA.MISTY1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t + "[meter\n", "not valid TOML"),
        (lambda t: t + "[extra]\n", "unknown tables: extra"),
        (lambda t: t.replace('drn = "00000000000"', 'drn = "00000000000"\ncolour = 1'),
         r"\[meter\] has unknown keys: colour"),
        (lambda t: t.replace('drn = "00000000000"\n', ""), r"\[meter\] drn: is required"),
        (lambda t: t.replace('"00000000000"', '"00000000001"'), "check digit"),
        (lambda t: t.replace("ti = 1", "ti = 1.5"), "whole number"),
        (lambda t: t.replace("krn = 1", "krn = 0"), "krn is outside 1-9"),
        (lambda t: t.replace('vending_key = "abababababababab"', ""), "either decoder_key"),
        (lambda t: t + 'decoder_key = "00"\n', "either decoder_key"),
        (lambda t: t.replace('"abababababababab"', '"xyz"'), "hexadecimal"),
        (lambda t: t.replace('"abababababababab"', '"abab"'), "vending key is 8 bytes"),
        (lambda t: t + "[registers]\nstart = { electricity = '1.25' }\n", "finer than"),
        (lambda t: t + "[registers]\nstart = { steam = 1 }\n", "unknown register"),
        (lambda t: t + "[registers]\nstart = 5\n", "expected a table"),
        (lambda t: t + "[registers]\npresent = 'water'\n", "list of register names"),
        (lambda t: t + "[registers]\nprice = 'cheap'\n", "expected a number"),
        (lambda t: t + "[registers]\nprice = 'inf'\n", "finite"),
        (lambda t: t + "[emergency]\npolicy = 'maybe'\n", "maybe"),
        (lambda t: t + "[emergency]\npolicy = 'meter'\n", "needs an allowance"),
        (lambda t: t + "[behaviour]\nlockout_first = 2000\n", "threshold"),
        (lambda t: t + "[behaviour]\nrefused_key_type_changes = ['2']\n", "from->to"),
        (lambda t: t + "[behaviour]\nrefused_key_type_changes = '2->1'\n", "expected a list"),
        (lambda t: t + "[behaviour]\ntest_token_forms = 1\n", "list of whole numbers"),
        (lambda t: t + "[behaviour]\ntamper_opens_relay = 'yes'\n", "true or false"),
        (lambda t: t + "[limits]\nmax_power = -1\n", "power limit"),
        (lambda t: t.replace("[meter]", "[meter]\nmanufactured = 2024-01-01T00:00:00"),
         "with a timezone"),
        (lambda t: t.replace("[meter]", "[meter]\nname = [1]"), "expected text"),
        (lambda t: t.replace("[meter]\n", "meter = 5\n[m]\n"), "unknown tables"),
        (lambda t: "meter = 5\n", "must be a table"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_profile_errors(change: object, message: str) -> None:
    text = change(MINIMAL)  # type: ignore[operator]
    with pytest.raises(MeterConfigError, match=message) as info:
        parse_profile(text, "p.toml")
    assert info.value.code == "meter_config"
    assert str(info.value).startswith("p.toml")


def test_manufactured_as_text_and_state_path(tmp_path: Path) -> None:
    text = MINIMAL.replace("[meter]", '[meter]\nmanufactured = "2024-02-03T04:05:06+02:00"')
    path = tmp_path / "site-7.toml"
    path.write_text(text, encoding="utf-8")
    loaded = load_profile(path)
    assert loaded.manufactured is not None and loaded.manufactured.hour == 4
    assert state_path_for(path) == tmp_path / "site-7.state.json"
    with pytest.raises(MeterConfigError, match="cannot read the profile"):
        load_profile(tmp_path / "absent.toml")
