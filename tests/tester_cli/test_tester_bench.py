"""The tester's bench: --tid, --json for one token, field names checked, TID times and amounts
shown, and whole key change sets, run as a tester runs them (a subprocess of ``stsvend``)."""

from __future__ import annotations

import doctest
import importlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stsvend import sts
from stsvend.sts.layouts import layout_for
from stsvend_cli.tester_view import describe, tid_from_text
from tests.tester_cli.test_tester_cli import DERIVE, run

TOKEN = "23716100501183194197"  # VK abab…, DRN 00000000000: rnd 5, TID 5871715, 0.1 kWh
KEY = ["--key-env", "TEST_VK", *DERIVE]
ENV = {"TEST_VK": "abababababababab"}
# A published key change set (vectors/tokens.json, nectar-02-CTSA05-step3): TI 1 -> 2.
KCT_METER = ["--iin", "0000", "--drn", "0100000000008", "--sgc", "123456", "--ti", "1",
             "--krn", "1", "--base-date", "1993"]  # fmt: skip
KCT_TOKENS = ["36495265416911568628", "35908059266238070883"]


def ok_json(args: list[str], stdin: str = "", env: dict[str, str] | None = None) -> Any:
    proc = run([*args, "--json"], stdin, env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def refused(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = run(args, "", env)
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    return proc.returncode, proc.stderr


# -- decode: the TID as a time, the amount in its unit ------------------------------------------


def test_decode_shows_the_tid_under_every_base_date_and_the_amount() -> None:
    proc = run(["token", "decode", TOKEN, *KEY], env=ENV)
    assert proc.returncode == 0, proc.stderr
    # TID 5871715 = 4077 days and 835 minutes after each base date.
    for line in ("TID 5871715 = 2004-03-01 13:55 UTC (base date 1993)",
                 "TID 5871715 = 2025-03-01 13:55 UTC (base date 2014)",
                 "TID 5871715 = 2046-03-01 13:55 UTC (base date 2035)",
                 "amount: 0.1 kWh"):  # fmt: skip
        assert line in proc.stdout


def test_decode_with_a_base_date_shows_that_one_only() -> None:
    proc = run(["token", "decode", TOKEN, *KEY, "--base-date", "2014"], env=ENV)
    assert "2025-03-01 13:55 UTC (base date 2014)" in proc.stdout
    assert "base date 1993" not in proc.stdout and "base date 2035" not in proc.stdout


def test_decode_json_is_one_object() -> None:
    assert ok_json(["token", "decode", TOKEN, *KEY, "--base-date", "2014"], env=ENV) == {
        "token": TOKEN, "token_class": 0, "subclass": 0, "name": "electricity credit (0.1 kWh)",
        "fields": {"rnd": 5, "tid": 5871715, "amount_field": 1, "transfer_amount": 1},
        "amount": {"value": "0.1", "unit": "kWh"},
        "tid_at": {"2014": "2025-03-01T13:55:00+00:00"}, "reserved_minute": False,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("subclass", "field", "amount"),
    [
        (1, "transfer_amount=125", {"value": "12.5", "unit": "m³"}),
        (2, "transfer_amount=7", {"value": "0.7", "unit": "m³"}),
        (3, "transfer_amount=600", {"value": "60.0", "unit": "min"}),
        (4, "currency_amount=16383", {"value": "0.16383", "unit": "currency"}),
        (5, "currency_amount=-99994", {"value": "-0.99994", "unit": "currency"}),
    ],
)
def test_amounts_in_their_units_round_trip(subclass: int, field: str, amount: Any) -> None:
    rnd = [] if subclass >= 4 else ["--field", "rnd=3"]  # currency tokens carry S&E instead
    made = ok_json(["token", "encode", "--class", "0", "--subclass", str(subclass), "--field",
                    field, *rnd, "--tid", "100", *KEY], env=ENV)  # fmt: skip
    assert made["amount"] == amount
    read = ok_json(["token", "decode", made["token"], *KEY], env=ENV)
    assert read["amount"] == amount and read["fields"]["tid"] == 100


def test_a_power_limit_is_shown_in_watts() -> None:
    made = ok_json(["token", "encode", "--class", "2", "--subclass", "0", "--field",
                    "watts=1000", "--field", "rnd=0", "--tid", "100", *KEY], env=ENV)  # fmt: skip
    assert made["amount"] == {"value": "1000", "unit": "W"}


def test_the_reserved_minute_is_pointed_out() -> None:
    proc = run(["token", "encode", "--class", "0", "--subclass", "0", "--field", "rnd=1",
                "--field", "transfer_amount=1", "--tid", "1441", *KEY], env=ENV)  # fmt: skip
    assert "reserved minute" in proc.stdout


# -- encode: --tid, --json ---------------------------------------------------------------------


def test_encode_json_gives_the_known_token() -> None:
    out = ok_json(["token", "encode", "--class", "0", "--subclass", "0", "--field", "rnd=5",
                   "--field", "tid=5871715", "--field", "transfer_amount=1", *KEY], env=ENV)
    assert out["token"] == TOKEN and out["fields"]["tid"] == 5871715
    assert "not issued" in out["note"]


@pytest.mark.parametrize("when", ["2026-12-03T15:52Z", "2026-12-03 15:52", "2026-12-03T17:52+02:00",
                                  "2026-12-03T15:52:59Z"])  # fmt: skip
def test_tid_from_a_time(when: str) -> None:
    # 2014-01-01 00:00 UTC to 2026-12-03 15:52 UTC: 4719 days and 952 minutes.
    out = ok_json(["token", "encode", "--class", "0", "--subclass", "0", "--field", "rnd=5",
                   "--field", "transfer_amount=1", "--tid", when, *KEY], env=ENV)  # fmt: skip
    assert out["fields"]["tid"] == 4719 * 1440 + 952 == 6796312
    assert out["tid_at"]["2014"] == "2026-12-03T15:52:00+00:00"


def test_tid_now_is_the_current_minute_under_the_base_date() -> None:
    before = datetime.now(UTC)
    out = ok_json(["token", "encode", "--class", "0", "--subclass", "0", "--field", "rnd=1",
                   "--field", "transfer_amount=1", "--tid", "now", "--base-date", "2014", *KEY],
                  env=ENV)  # fmt: skip
    after = datetime.now(UTC)
    start = datetime(2014, 1, 1, tzinfo=UTC)
    low, high = ((t - start) // timedelta(minutes=1) for t in (before, after))
    assert low <= out["fields"]["tid"] <= high + 1  # +1: the reserved minute moves on
    assert not sts.is_reserved_tid(out["fields"]["tid"])
    assert list(out["tid_at"]) == ["2014"]


def test_tid_now_known_answers() -> None:
    at = datetime(2026, 12, 3, 15, 52, 30, tzinfo=UTC)
    assert tid_from_text("now", "2014", now=at) == 6796312
    assert tid_from_text("NOW", "1993", now=datetime(2024, 11, 24, 20, 15, tzinfo=UTC)) == 2**24 - 1
    midnight_01 = datetime(2026, 12, 3, 0, 1, tzinfo=UTC)  # the reserved minute
    assert tid_from_text("now", "2014", now=midnight_01) == 4719 * 1440 + 2
    assert tid_from_text("42", "2035", now=None) == 42


def test_describe_without_a_tid_has_no_times() -> None:
    layout = layout_for(1, 0)
    assert "tid_at" not in describe(layout, {"control": 1, "manufacturer_code": 0}, None)


# -- refusals ----------------------------------------------------------------------------------

ENC = ["token", "encode", "--class", "0", "--subclass", "0"]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        ([*ENC, "--field", "amout=5", *KEY], "has no field amout", 3),
        ([*ENC, "--field", "rnd=1", "--field", "rnd=2", *KEY], "given twice", 3),
        (["token", "encode", "--class", "1", "--subclass", "0", "--field", "colour=1"],
         "has no field colour", 3),
        ([*ENC, "--field", "tid=5", "--tid", "now", *KEY], "give the TID once", 3),
        (["token", "encode", "--class", "1", "--subclass", "0", "--tid", "now"],
         "carries no TID", 3),
        ([*ENC, "--tid", "yesterday", *KEY], "--tid is now, a number", 3),
        ([*ENC, "--tid", "2013-12-31T23:59Z", *KEY], "before the base date", 3),
        ([*ENC, "--tid", "16777216", *KEY], "the TID", 3),
        ([*ENC, "--jsonl", "--json"], "--json is for one token", 2),
        (["token", "decode", "--jsonl", "--json"], "--json is for one token", 2),
    ],
)  # fmt: skip
def test_refusals(args: list[str], message: str, code: int) -> None:
    got, stderr = refused(args, ENV)
    assert got == code and message in stderr, stderr


def test_the_jsonl_contract_still_ignores_nothing_new() -> None:
    # The batch contract is unchanged: --jsonl answers only in JSON lines.
    case = {"id": 1, "token": TOKEN, "ea": "07", "key": {"decoder_key": "e653341f9d5bf36f"}}
    proc = run(["token", "decode", "--jsonl"], json.dumps(case) + "\n")
    assert json.loads(proc.stdout) == {"id": 1, "token_class": 0, "subclass": 0, "fields": {
        "rnd": 5, "tid": 5871715, "amount_field": 1, "transfer_amount": 1}}  # fmt: skip


# -- key change sets ---------------------------------------------------------------------------


def test_key_change_set_gives_the_published_tokens_in_order(tmp_path: Path) -> None:
    vk = tmp_path / "vk.hex"
    vk.write_text("abababababababab\n")
    args = ["token", "key-change", "--key-file", str(vk), "--new-key-file", str(vk),
            *KCT_METER, "--new-ti", "2"]  # fmt: skip
    out = ok_json(args)
    assert [t["token"] for t in out["tokens"]] == KCT_TOKENS
    assert [(t["order"], t["subclass"]) for t in out["tokens"]] == [(1, 3), (2, 4)]
    assert out["new"] == {"sgc": 123456, "krn": 1, "ti": 2, "key_type": 2, "ken": 255,
                          "base_date": 1993}  # fmt: skip
    assert out["rollover"] is False
    text = run(args).stdout
    assert "3649 5265 4169 1156 8628" in text and text.index("3649") < text.index("3590")
    assert "enter them in this order" in text and "not issued" in text


def test_key_change_with_the_sgc_token_and_from_stdin() -> None:
    out = ok_json(["token", "key-change", "--key-stdin", "--new-key-stdin", *KCT_METER,
                   "--new-ti", "2", "--new-sgc", "654321", "--with-sgc"],
                  stdin="abababababababab\nabababababababab\n")  # fmt: skip
    assert [t["subclass"] for t in out["tokens"]] == [3, 4, 8]
    meter = sts.MeterIdentity.parse("0000", "0100000000008")
    data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2, base_date=1993)
    current = sts.derive_decoder_key(bytes.fromhex("ab" * 8), meter, data)
    third = sts.decode_token(out["tokens"][2]["token"], current)
    assert third.fields["new_sgc"] == 654321
    first = sts.decode_token(out["tokens"][0]["token"], current)
    assert first.fields["res"] == 1  # the first token announces the third


def test_ea11_key_change_is_four_tokens_with_rollover() -> None:
    old, new = "11" * 16, "22" * 16
    out = ok_json(["token", "key-change", "--ea", "11", "--decoder-key", "--key-env", "OLD",
                   "--new-decoder-key", "--new-key-env", "NEW", "--new-sgc", "123456",
                   "--new-ti", "1", "--new-krn", "2", "--new-base-date", "2035",
                   "--new-ken", "200"], env={"OLD": old, "NEW": new})  # fmt: skip
    assert [t["subclass"] for t in out["tokens"]] == [3, 4, 8, 9] and out["rollover"] is True
    current = sts.DecoderKey(bytes.fromhex(old), "11")
    fields = [sts.decode_token(t["token"], current).fields for t in out["tokens"]]
    assert fields[0]["ro"] == 1 and fields[0]["new_krn"] == 2
    assert (fields[0]["kenho"] << 4) | fields[1]["kenlo"] == 200
    assert f"{fields[0]['nkho']:08x}{fields[2]['nkmo1']:08x}{fields[3]['nkmo2']:08x}" \
        f"{fields[1]['nklo']:08x}" == new


@pytest.mark.parametrize(
    ("extra", "env", "message", "code"),
    [
        ([*KCT_METER, "--key-env", "VK", "--new-ti", "2"], {"VK": "ab" * 8},
         "--new-key-file PATH, --new-key-env VAR or --new-key-stdin", 3),
        (["--decoder-key", "--key-env", "VK", "--new-key-env", "VK", "--new-decoder-key"],
         {"VK": "ab" * 8}, "needs --new-sgc, --new-ti, --new-krn", 3),
        ([*KCT_METER, "--key-env", "VK", "--new-key-env", "VK", "--new-base-date", "2035"],
         {"VK": "ab" * 8}, "moves base date 1993 to 2014, not 2035", 3),
        ([*KCT_METER, "--key-env", "VK", "--new-key-env", "VK", "--ea", "11", "--with-sgc"],
         {"VK": "ab" * 8}, "--with-sgc is for EA07", 3),
        ([*KCT_METER, "--key-env", "VK", "--new-key-env", "VK", "--new-krn", "10"],
         {"VK": "ab" * 8}, "krn is outside 1-9", 4),
        ([*KCT_METER, "--key-env", "VK", "--new-key-env", "NEW", "--new-decoder-key"],
         {"VK": "ab" * 8, "NEW": "ab" * 16}, "decoder key is 8 bytes", 4),
    ],
)  # fmt: skip
def test_key_change_refusals(extra: list[str], env: dict[str, str], message: str,
                             code: int) -> None:  # fmt: skip
    got, stderr = refused(["token", "key-change", *extra], env)
    assert got == code and message in stderr, stderr


@pytest.mark.parametrize("name", ["tester_keys", "tester_view", "tester_keychange"])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(f"stsvend_cli.{name}")
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
