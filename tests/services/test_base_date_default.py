"""Base date 1993 ran out on 2024-11-24 20:15 UTC: new key data defaults to 2014, and a meter
still on 1993 is refused with the command that rolls it over."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stsvend import sts
from stsvend.errors import TidError
from stsvend.services import importing, registry, vend
from stsvend.store.repos.meters import get_meter
from stsvend.vending.errors import RolloverRequiredError
from tests.services.helpers import Installation, drn, installation

ROOT = Path(__file__).resolve().parents[2]
METER = drn(1)


def test_new_key_data_defaults_to_base_date_2014() -> None:
    data = sts.KeyData(sgc=123456, ti=1, krn=1, key_type=2)
    assert data.base_date is sts.BaseDate.Y2014
    # An explicit 1993 still means 1993 (meters on it exist and must be rolled over).
    assert sts.KeyData(sgc=1, ti=1, krn=1, key_type=2, base_date=1993).base_date == 1993


def test_the_first_example_of_the_library_guide_runs_today() -> None:
    text = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    first = re.search(r"```python\n(.*?)```", text, re.S)
    assert first is not None
    namespace: dict[str, object] = {}
    exec(compile(first.group(1), "docs/library.md", "exec"), namespace)
    token, kct, decoded = namespace["token"], namespace["kct"], namespace["decoded"]
    assert isinstance(token, str) and len(token) == 20
    assert isinstance(kct, list | tuple) and len(kct) == 2
    assert isinstance(decoded, sts.DecodedToken) and decoded.fields["amount_field"] == 250


def test_the_testers_base_date_defaults_to_2014(tmp_path: Path) -> None:
    key = tmp_path / "vk.hex"
    key.write_text("abababababababab949494949494949401234567\n")
    args = [sys.executable, "-m", "stsvend_cli", "key", "derive", "--key-file", str(key),
            "--dkga", "04", "--drn", "00000000000", "--sgc", "123457", "--ti", "1",
            "--krn", "1"]  # fmt: skip

    def derive(*extra: str) -> str:
        proc = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert derive() == derive("--base-date", "2014") != derive("--base-date", "1993")


def test_meters_import_defaults_to_base_date_2014(inst: Installation) -> None:
    out = importing.import_meters(inst.svc, inst.admin, f"drn,sgc\n{METER},123456\n")
    assert out.added == 1
    with inst.svc.store.transaction() as conn:
        assert get_meter(conn, METER).base_date == 2014


def test_a_1993_meter_past_its_range_names_the_rollover_command() -> None:
    with installation() as inst:
        registry.add_group(inst.svc, inst.admin, 123457, name="Old", krn=1, base_date=1993)
        inst.meter(METER, sgc=123457)
        with pytest.raises(RolloverRequiredError) as caught:
            vend.vend(inst.svc, inst.clerk, METER, "10")
        message = caught.value.message
        assert message.startswith("rollover key change required")
        assert "stsvend key-change group 123457 --rollover" in message
        assert f"stsvend key-change meter {METER} --rollover" in message
        assert "2024-11-24" in message
        assert isinstance(caught.value, TidError) and caught.value.code == "rollover_required"
        assert inst.count("sale") == 0 and inst.count("meter_tid") == 0
