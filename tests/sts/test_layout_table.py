"""The layout table is the one place that says what fields mean, and the core stays pure."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsvend import sts
from stsvend.keystore import module as security_module
from stsvend.meter.keychange import SECTION_OF_SUBCLASS, assemble, stage
from stsvend.sts.layouts import (
    KEY_CHANGE_SECTIONS,
    KEY_CHANGE_SUBCLASSES,
    LAYOUTS,
    FieldKind,
    KeySource,
    Layout,
    ManagementSubclass,
    TokenClass,
    key_sections,
    layout_for,
    management_layouts,
    section_of,
)
from stsvend.vending.engineering import ENGINEERING_RULES, EngineeringKind

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _all_layouts() -> list[Layout]:
    out = list(LAYOUTS.values())
    out += [layout_for(2, s, "11") for s in (8, 9)]
    return out


def test_fields_fill_the_bits_between_subclass_and_crc_without_overlap() -> None:
    for layout in _all_layouts():
        used = 0
        for f in layout.fields:
            bits = f.max << f.lsb
            assert used & bits == 0, f"{layout.name}: {f.name} overlaps"
            assert f.lsb >= 16 and f.lsb + f.width <= 60, f"{layout.name}: {f.name}"
            used |= bits
        assert used == ((1 << 44) - 1) << 16, layout.name


def test_every_key_section_part_is_a_field_of_its_layout_and_of_its_kind() -> None:
    kind_of = {KeySource.KEY: FieldKind.KEY_SECTION, KeySource.KEN: FieldKind.KEN,
               KeySource.SGC: FieldKind.SGC}  # fmt: skip
    for ea, sections in KEY_CHANGE_SECTIONS.items():
        key_bits = 0
        for section in sections:
            layout = layout_for(2, section.subclass, ea)
            fields = {f.name: f for f in layout.fields}
            for part in section.parts:
                assert fields[part.field].kind is kind_of[part.source]
                assert fields[part.field].width >= part.width
                if part.source is KeySource.KEY:
                    key_bits |= ((1 << part.width) - 1) << part.shift
        assert key_bits == (1 << (8 * sts.EA(ea).key_bytes)) - 1, f"EA{ea} key not covered"


def test_every_reader_takes_its_subclass_meanings_from_the_table() -> None:
    assert security_module.KEY_CHANGE_SUBCLASSES is KEY_CHANGE_SUBCLASSES
    assert {s: section_of(s) for s in KEY_CHANGE_SUBCLASSES} == SECTION_OF_SUBCLASS
    assert {3, 4, 8, 9} == KEY_CHANGE_SUBCLASSES
    assert [s.subclass for s in key_sections("07", with_optional=False)] == [3, 4]
    settings = {ManagementSubclass(x.subclass) for x in management_layouts()}
    assert settings.isdisjoint(KEY_CHANGE_SUBCLASSES)
    assert {rule.subclass for rule in ENGINEERING_RULES.values()} == settings
    for kind in EngineeringKind:
        assert kind.value == ManagementSubclass(kind.layout.subclass).key
        assert kind.layout.label and kind.layout.setting
    assert ENGINEERING_RULES[EngineeringKind.MAX_POWER_LIMIT].value is FieldKind.WATTS
    assert ENGINEERING_RULES[EngineeringKind.CLEAR_TAMPER].value is None


_KEYS = st.binary(min_size=16, max_size=16)


@given(raw=_KEYS, ken=st.integers(0, 255), sgc=st.integers(0, 999_999),
       krn=st.integers(1, 9), ti=st.integers(0, 99), ea=st.sampled_from(["07", "11"]),
       with_sgc=st.booleans())  # fmt: skip
def test_a_key_change_set_split_by_the_table_assembles_back(
    raw: bytes, ken: int, sgc: int, krn: int, ti: int, ea: str, with_sgc: bool
) -> None:
    size = sts.EA(ea).key_bytes
    current = sts.DecoderKey(bytes(range(size)), ea)
    current_data = sts.KeyData(sgc=1, ti=1, krn=1, key_type=1, ea=ea)
    new = sts.DecoderKey(raw[:size], ea)
    data = sts.KeyData(sgc=sgc, ti=ti, krn=krn, key_type=2, ea=ea, ken=ken)
    tokens = sts.key_change_tokens(current, new, data, with_sgc=with_sgc)
    staged = None
    for token in tokens:
        decoded = sts.decode_token(token, current)
        staged = stage(staged, section_of(decoded.subclass), decoded.fields, T0, 600)
    assert staged is not None and staged.complete(current.ea)
    installed = assemble(current.ea, staged, current_data)
    assert installed.decoder_key == new
    expected_sgc = sgc if (ea == "11" or with_sgc) else current_data.sgc
    assert (installed.key_data.ken, installed.key_data.sgc) == (ken, expected_sgc)
    assert (installed.key_data.krn, installed.key_data.ti) == (krn, ti)


def test_the_cli_offers_exactly_the_table_s_setting_tokens() -> None:
    from stsvend_cli.sale_cmds import engineering

    kind = next(p for p in engineering.params if p.name == "kind")
    choices = list(kind.type.choices)  # type: ignore[attr-defined]
    assert choices == [k.value.replace("_", "-") for k in EngineeringKind]


def test_token_class_enum_matches_the_codec() -> None:
    token = sts.test_token(1)
    assert sts.decode_token(token, None).token_class == TokenClass.INITIATE_METER_TEST


# -- purity of the core -----------------------------------------------------------------------

_CORE = [ROOT / "src/stsvend/sts", ROOT / "src/stsvend/vending", ROOT / "src/stsvend/meter"]


def _sources(*dirs: Path) -> list[Path]:
    return sorted(p for d in dirs for p in d.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _sources(ROOT / "src/stsvend/sts"), ids=lambda p: p.name)
def test_sts_reads_no_files(path: Path) -> None:
    assert not _imports(path) & {"pathlib", "os", "io", "shutil"}, path
    assert not re.search(r"\bopen\(|read_bytes|read_text", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path",
    _sources(*_CORE, ROOT / "src/stsvend/keystore"),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_module_level_caches_of_keys(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "lru_cache" not in text and "functools.cache" not in text, path
    assert "set_default_tables" not in text and "global " not in text, path


@pytest.mark.parametrize("path", _sources(ROOT / "src/stsvend/vending"), ids=lambda p: p.name)
def test_the_vending_domain_does_not_call_the_security_module(path: Path) -> None:
    assert not any(n.startswith("stsvend.keystore") for n in _imports(path)), path
    module_calls = {"encode_token", "key_change_tokens", "decode_token", "decoder_key_check_value"}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            through_sts = isinstance(target, ast.Name) and target.id == "sts"
            assert through_sts or node.func.attr not in module_calls, f"{path}:{node.lineno}"
