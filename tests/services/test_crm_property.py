"""Random CRM files: the import never crashes, never half-applies a row, and its report adds up;
a second import of the same file creates and changes nothing."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stsvend.adapters.crm.formats import csv as plain_csv
from stsvend.services.crm import import_crm
from tests.services.helpers import drn, installation

_JUNK = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
_PERSONAL = st.sampled_from(["jane@example.org", "+27 82 555 0199", "Jane Doe", "Smith",
                             "082-555-0199", "Main Road 12"])  # fmt: skip
_NUMBER = st.integers(1, 6).map(lambda n: f"C-{n}")
_CONTRACT = st.integers(1, 8).map(lambda n: f"{3000 + n}")
_METER = st.integers(1, 6).map(lambda n: drn(500 + n))
_DATE = st.sampled_from(["", "2020-01-01", "2099-12-31", "2024-02-30", "01.01.2024"])


def _cell(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(good, good, good, _PERSONAL, _JUNK, st.just(""))


ROW = st.tuples(
    _cell(_NUMBER), _cell(_CONTRACT), _cell(_METER), _cell(st.just("FLAT")), _DATE, _DATE,
    _cell(_NUMBER), _PERSONAL,
)  # fmt: skip
HEADER = ["customer", "contract", "meter", "tariff", "move_in", "move_out", "premise", "name"]


def _file(rows: list[tuple[str, ...]], raw: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for i, row in enumerate(rows):
        writer.writerow(row)
        if raw and i % 3 == 0:
            out.write(raw[i % len(raw)].replace("\x00", "") + "\n")
    return out.getvalue()


def _count(inst: object, table: str) -> int:
    return inst.count(table)  # type: ignore[attr-defined,no-any-return]


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, max_size=25), raw=st.lists(_JUNK, max_size=3),
       chunk=st.sampled_from([2, 5000]))  # fmt: skip
def test_random_rows(rows: list[tuple[str, ...]], raw: list[str], chunk: int) -> None:
    text = _file(rows, raw)
    with installation() as inst:
        before = {t: _count(inst, t) for t in ("account", "meter", "key_change", "customer")}
        first = import_crm(inst.svc, inst.admin, plain_csv().source(io.StringIO(text)),
                           supply_group=123456, chunk=chunk)  # fmt: skip
        assert first.adds_up
        assert first.dropped_columns == ("name",)
        # Nothing half-written: every account made is counted, every meter made has its
        # commissioning key change, and no customer exists without an account.
        assert _count(inst, "account") - before["account"] == first.created
        assert _count(inst, "meter") - before["meter"] == first.meters_added
        assert _count(inst, "key_change") - before["key_change"] == first.meters_added
        assert _count(inst, "customer") - before["customer"] <= first.created
        for rejection in first.rejections:
            for personal in ("jane@example.org", "+27 82 555 0199", "Jane Doe", "Smith"):
                assert personal not in rejection.reason
        again = import_crm(inst.svc, inst.admin, plain_csv().source(io.StringIO(text)),
                           supply_group=123456, chunk=chunk)  # fmt: skip
        assert again.adds_up and again.rows == first.rows
        if chunk == 5000:  # one chunk: a contract listed twice is decided the same way again
            assert (again.created, again.changed) == (0, 0)
            assert again.rejected == first.rejected


def test_the_documented_isu_mapping_is_the_shipped_one() -> None:
    import re
    import tomllib
    from pathlib import Path

    from stsvend.adapters.crm.mapping import default_mapping, mapping_from

    text = (Path(__file__).resolve().parents[2] / "docs" / "integration.md").read_text()
    block = re.search(r"shipped with the package\):\n\n```toml\n(.*?)```", text, re.S)
    assert block is not None
    assert mapping_from(tomllib.loads(block[1])) == default_mapping("isu")
