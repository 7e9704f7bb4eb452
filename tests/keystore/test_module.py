"""The security module: published vectors through the keystore, key choice, and refusals."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsvend import sts
from stsvend.errors import CrcError
from stsvend.keystore import (
    KeyNotFoundError,
    KeystoreModeError,
    KeyUseError,
    SecurityModule,
    SoftwareSecurityModule,
    demo_key_file,
    parse_key_file,
)
from stsvend.keystore.kcv import decoder_key_check_value, vending_key_check_value
from stsvend.keystore.records import KeyRecord, SecretBytes
from tests.keystore.conftest import DEFAULT, METER, UNIQUE, VK_AB, key_file_text
from tests.vectors import parametrize, token_cases

_TYPES = {0: "VITK", 1: "VDDK", 2: "VUDK", 3: "VCDK"}


def _vector_module() -> SoftwareSecurityModule:
    """A TEST module holding every vending key the published vectors use."""
    seen: dict[tuple[str, int, int], dict[str, Any]] = {}
    for case in token_cases(refusals=False):
        for key in (case.get("key"), (case.get("fields") or {}).get("new_key")):
            if not key or "vending_key" not in key:
                continue
            ident = (str(key["sgc"]), int(key["krn"]), int(key["key_type"]))
            vk = bytes.fromhex(key["vending_key"])
            entry = {"sgc": str(key["sgc"]), "krn": key["krn"], "dkga": key["dkga"],
                     "type": _TYPES[int(key["key_type"])], "key": key["vending_key"],
                     "kcv": vending_key_check_value(vk, key["dkga"])}  # fmt: skip
            assert seen.setdefault(ident, entry) == entry, "one vending key per SGC/KRN/type"
    return SoftwareSecurityModule.from_key_file(parse_key_file(key_file_text(*seen.values())))


VECTOR_HSM = _vector_module()


def _meter_and_data(key: dict[str, Any], ea: str) -> tuple[sts.MeterIdentity, sts.KeyData]:
    meter = sts.MeterIdentity.parse(key["iin"], key["drn"])
    data = sts.KeyData(sgc=key["sgc"], ti=key["ti"], krn=key["krn"], key_type=key["key_type"],
                       ea=ea, base_date=key["base_date"])  # fmt: skip
    return meter, data


_PLAIN = [c for c in token_cases(refusals=False)
          if c["key"] and "vending_key" in c["key"]
          and not (c["token_class"] == 2 and c["subclass"] in (3, 4, 8, 9))]  # fmt: skip
_KCT = [c for c in token_cases(refusals=False)
        if c["token_class"] == 2 and c["subclass"] in (3, 4, 8, 9)
        and "new_key" in c["fields"]]  # fmt: skip


@parametrize("case", _PLAIN)
def test_published_tokens_come_out_of_the_module(case: dict[str, Any]) -> None:
    meter, data = _meter_and_data(case["key"], case["ea"])
    vending_key = bytes.fromhex(case["key"]["vending_key"])
    key = sts.derive_decoder_key(vending_key, meter, data, case["key"]["dkga"])
    # The raw fields of the published token, read with an independently derived key.
    layout_fields = sts.decode_token(case["token"], key).fields
    token = VECTOR_HSM.encode_token(
        meter, data, case["token_class"], case["subclass"], layout_fields
    )
    assert token == case["token"]
    assert VECTOR_HSM.decode_token(meter, data, case["token"]).fields == layout_fields


@parametrize("case", _KCT)
def test_published_key_change_sets_come_out_of_the_module(case: dict[str, Any]) -> None:
    meter, current = _meter_and_data(case["key"], case["ea"])
    fields = case["fields"]
    _, new = _meter_and_data(fields["new_key"], case["ea"])
    new = sts.KeyData(sgc=new.sgc, ti=fields["new_ti"], krn=fields["new_krn"],
                      key_type=fields["new_kt"], ea=case["ea"], base_date=new.base_date,
                      ken=fields["ken"])  # fmt: skip
    tokens = VECTOR_HSM.key_change_tokens(meter, current, new, rollover=bool(fields["ro"]),
                                          with_sgc=bool(fields["res"]))  # fmt: skip
    position = {3: 0, 4: 1, 8: 2, 9: 3}[case["subclass"]]
    assert tokens[position] == case["token"]


def test_the_software_module_is_a_security_module(hsm: SoftwareSecurityModule) -> None:
    assert isinstance(hsm, SecurityModule)
    assert hsm.test


def test_key_records_carry_no_material(hsm: SoftwareSecurityModule) -> None:
    records = hsm.key_records()
    assert [r.key_id for r in records] == [
        "123456/1/VDDK", "123456/1/VUDK", "123456/2/VUDK", "123457/1/VUDK", "123457/4/VUDK",
    ]  # fmt: skip
    for record in records:
        assert set(record.as_dict()) == {"key_id", "sgc", "krn", "dkga", "vending_key_type",
                                         "kcv", "test", "ken", "base_date", "label"}  # fmt: skip
        assert record.test is True


def test_the_vending_key_is_chosen_by_sgc_krn_and_key_type(hsm: SoftwareSecurityModule) -> None:
    assert hsm.key_record_for(UNIQUE).key_id == "123456/1/VUDK"
    assert hsm.key_record_for(DEFAULT).key_id == "123456/1/VDDK"
    krn2 = sts.KeyData(sgc=123456, ti=1, krn=2, key_type=2)
    assert hsm.key_record_for(krn2).kcv == "31CE7A"
    expected = sts.derive_decoder_key(bytes.fromhex("94" * 8), METER, krn2)
    assert hsm.decoder_key_check_value(METER, krn2) == decoder_key_check_value(expected)


def test_dkga04_keys_derive_for_ea07_and_ea11(hsm: SoftwareSecurityModule) -> None:
    vk = bytes.fromhex("abababababababab949494949494949401234567")
    for ea in ("07", "11"):
        data = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, ea=ea)
        key = sts.derive_decoder_key(vk, METER, data, "04")
        fields = {"rnd": 1, "tid": 100, "amount_field": 10}
        assert hsm.encode_token(METER, data, 0, 0, fields) == sts.encode_token(0, 0, fields, key)


def test_missing_keys_are_named(hsm: SoftwareSecurityModule) -> None:
    with pytest.raises(KeyNotFoundError, match="123456/3/VUDK"):
        hsm.key_record_for(sts.KeyData(sgc=123456, ti=1, krn=3, key_type=2))
    with pytest.raises(KeyNotFoundError, match="need a VCDK"):
        hsm.encode_token(METER, sts.KeyData(sgc=123456, ti=1, krn=1, key_type=3), 0, 0,
                         {"rnd": 0, "tid": 1, "amount_field": 1})  # fmt: skip


def test_a_key_for_one_base_date_refuses_another(hsm: SoftwareSecurityModule) -> None:
    data = sts.KeyData(sgc=123457, ti=1, krn=4, key_type=2, base_date=1993)
    with pytest.raises(KeyUseError, match="serves base date 2014, not 1993"):
        hsm.decoder_key_check_value(METER, data)


def test_dkga02_keys_do_not_make_ea11_keys(hsm: SoftwareSecurityModule) -> None:
    with pytest.raises(KeyUseError, match="EA07 keys only"):
        hsm.decoder_key_check_value(METER, sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2,
                                                       ea="11"))  # fmt: skip


def test_default_key_meters_take_no_credit(hsm: SoftwareSecurityModule) -> None:
    fields = {"rnd": 0, "tid": 1, "amount_field": 1}
    with pytest.raises(KeyUseError, match="takes no credit token"):
        hsm.encode_token(METER, DEFAULT, 0, 0, fields)
    # …but it takes management tokens and key changes.
    assert (
        len(hsm.encode_token(METER, DEFAULT, 2, 5, {"rnd": 0, "tid": 1, "amount_field": 0})) == 20
    )


@pytest.mark.parametrize("subclass", [3, 4, 8, 9])
def test_key_sections_are_not_made_through_encode_token(
    hsm: SoftwareSecurityModule, subclass: int
) -> None:
    with pytest.raises(KeyUseError, match="only by key_change_tokens"):
        hsm.encode_token(METER, UNIQUE, 2, subclass, {"nkho": 0})


def test_class_1_tokens_need_no_key(hsm: SoftwareSecurityModule) -> None:
    unknown = sts.KeyData(sgc=999999, ti=1, krn=9, key_type=2)
    token = hsm.encode_token(METER, unknown, 1, 0, {"control": 1, "manufacturer_code": 0})
    assert token == sts.test_token(1)
    assert hsm.decode_token(METER, unknown, token).fields["control"] == 1


def test_commissioning_key_change(hsm: SoftwareSecurityModule) -> None:
    tokens = hsm.key_change_tokens(METER, DEFAULT, UNIQUE, rollover=False)
    vk = bytes.fromhex(VK_AB)
    current = sts.derive_decoder_key(vk, METER, DEFAULT)
    new = sts.derive_decoder_key(vk, METER, UNIQUE)
    assert tokens == sts.key_change_tokens(current, new, UNIQUE)


def test_rollover_from_one_vending_key_to_another(hsm: SoftwareSecurityModule) -> None:
    old = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993)
    new = sts.KeyData(sgc=123457, ti=1, krn=4, key_type=2, base_date=2014)
    tokens = hsm.key_change_tokens(METER, old, new, rollover=True)
    first = sts.decode_token(tokens[0], sts.derive_decoder_key(
        bytes.fromhex("abababababababab949494949494949401234567"), METER, old, "04"))  # fmt: skip
    assert first.fields["ro"] == 1 and first.fields["new_krn"] == 4


def test_three_token_set_with_the_sgc(hsm: SoftwareSecurityModule) -> None:
    tokens = hsm.key_change_tokens(METER, DEFAULT, UNIQUE, rollover=False, with_sgc=True)
    assert len(tokens) == 3
    assert hsm.decode_token(METER, DEFAULT, tokens[2]).fields["new_sgc"] == 123456


@pytest.mark.parametrize(
    ("current", "new", "rollover", "message"),
    [
        (UNIQUE, sts.KeyData(sgc=123456, ti=2, krn=1, key_type=2), True, "rollover flag"),
        (sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993),
         sts.KeyData(sgc=123457, ti=1, krn=4, key_type=2, base_date=2014), False,
         "rollover flag"),
        (sts.KeyData(sgc=123457, ti=1, krn=4, key_type=2, base_date=2014),
         sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, base_date=1993), True, "back"),
        (sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, ea="11"),
         sts.KeyData(sgc=123457, ti=2, krn=1, key_type=2), False, "encryption algorithm"),
    ],
)  # fmt: skip
def test_key_change_refusals(
    hsm: SoftwareSecurityModule,
    current: sts.KeyData,
    new: sts.KeyData,
    rollover: bool,
    message: str,
) -> None:
    with pytest.raises(KeyUseError, match=message):
        hsm.key_change_tokens(METER, current, new, rollover=rollover)


def test_decoding_a_key_change_section_withholds_the_key(hsm: SoftwareSecurityModule) -> None:
    tokens = hsm.key_change_tokens(METER, DEFAULT, UNIQUE, rollover=False)
    first = hsm.decode_token(METER, DEFAULT, tokens[0])
    second = hsm.decode_token(METER, DEFAULT, tokens[1])
    assert "nkho" not in first.fields and "nklo" not in second.fields
    assert first.fields["new_kt"] == 2 and second.fields["new_ti"] == 1
    new_key = sts.derive_decoder_key(bytes.fromhex(VK_AB), METER, UNIQUE).value
    for decoded in (first, second):
        assert (decoded.block >> 16) & 0xFFFFFFFF == 0
        assert new_key[:4].hex() not in f"{decoded.block:016x}"


def test_ea11_key_sections_are_withheld(hsm: SoftwareSecurityModule) -> None:
    old = sts.KeyData(sgc=123457, ti=1, krn=1, key_type=2, ea="11")
    new = sts.KeyData(sgc=123457, ti=2, krn=1, key_type=2, ea="11")
    tokens = hsm.key_change_tokens(METER, old, new, rollover=False)
    assert len(tokens) == 4
    decoded = [hsm.decode_token(METER, old, t) for t in tokens]
    assert all(not set(d.fields) & {"nkho", "nklo", "nkmo1", "nkmo2"} for d in decoded)
    assert decoded[2].fields["sgclo"] == 123457 & 0xFFF


def test_a_token_under_another_key_fails_its_crc(hsm: SoftwareSecurityModule) -> None:
    token = hsm.encode_token(METER, UNIQUE, 0, 0, {"rnd": 0, "tid": 9, "amount_field": 9})
    with pytest.raises(CrcError):
        hsm.decode_token(METER, sts.KeyData(sgc=123456, ti=1, krn=2, key_type=2), token)


def test_the_cache_derives_each_key_once(
    hsm: SoftwareSecurityModule, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = sts.derive_decoder_key

    def counting(*args: Any, **kwargs: Any) -> sts.DecoderKey:
        calls.append(args[1:])
        return real(*args, **kwargs)

    monkeypatch.setattr(sts, "derive_decoder_key", counting)
    for tid in range(1, 6):
        hsm.encode_token(METER, UNIQUE, 0, 0, {"rnd": 0, "tid": tid, "amount_field": 1})
    assert len(calls) == 1


def test_a_bounded_cache_evicts_and_still_answers() -> None:
    module = SoftwareSecurityModule.from_key_file(demo_key_file(), cache_size=2)
    drns = ["00000000000", "01234567897", "11111111115"]
    meters = [sts.MeterIdentity.parse(None, drn) for drn in drns]
    kcvs = [module.decoder_key_check_value(m, UNIQUE) for m in meters * 2]
    assert kcvs[:3] == kcvs[3:]
    assert len(module._cache) == 2


def test_a_test_module_refuses_production_records() -> None:
    record = KeyRecord(sgc=1, krn=1, dkga="02", vending_key_type="VUDK", kcv="C33F45",
                       test=False)  # fmt: skip
    with pytest.raises(KeystoreModeError, match="cannot join a TEST"):
        SoftwareSecurityModule([(record, SecretBytes(bytes.fromhex(VK_AB)))], test=True)
    with pytest.raises(TypeError):
        SoftwareSecurityModule([(record, bytes.fromhex(VK_AB))], test=False)  # type: ignore[list-item]


@settings(max_examples=50, deadline=None)
@given(tid=st.integers(0, sts.TID_MAX), amount=st.integers(0, 0xFFFF), rnd=st.integers(0, 15))
def test_encode_decode_round_trip(tid: int, amount: int, rnd: int) -> None:
    module = SoftwareSecurityModule.from_key_file(demo_key_file())
    fields = {"rnd": rnd, "tid": tid, "amount_field": amount}
    token = module.encode_token(METER, UNIQUE, 0, 0, fields)
    assert module.decode_token(METER, UNIQUE, token).fields == fields
