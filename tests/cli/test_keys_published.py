"""``stsvend keys import`` refuses a PRODUCTION key file that holds a published STS test key.

End to end, as an admin runs it, on SQLite and PostgreSQL: the refusal names the key (never its
value), exits with the key problem code, and leaves no keystore and no key behind.
"""

from __future__ import annotations

import json

import pytest

from stsvend.keystore.demo import DEMO_KEY_FILE_TEXT
from stsvend.keystore.errors import PublishedTestKeyError
from stsvend_cli.exit_codes import exit_code_for
from tests.cli.keys_install import (
    PRODUCTION_160_KEY,
    Install,
    installation,
    key_file,
    keys_initialised,
    production_entry,
)

__all__ = ["installation", "keys_initialised"]

PUBLISHED = {
    "abababababababab": "02",
    "9494949494949494": "02",
    "0abc12def3456789": "02",
    "abababababababab949494949494949401234567": "04",
    # The DES KCV ignores parity bits: this is the CTSA01 key with every parity bit flipped.
    "aaaaaaaaaaaaaaaa": "02",
}


def _refused(inst: Install, text: str) -> str:
    path = inst.write("production.toml", text)
    proc = inst.run("keys", "import", str(path))
    assert proc.returncode == exit_code_for(PublishedTestKeyError.code) == 4, proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stdout == ""
    assert "published STS test key" in proc.stderr and "nothing was imported" in proc.stderr
    for key in PUBLISHED:
        assert key not in proc.stderr.lower()
    assert not (inst.data_dir / "keystore.json").exists()
    return proc.stderr


def test_the_demo_keyset_marked_production_is_refused(installation: Install) -> None:
    message = _refused(
        installation, DEMO_KEY_FILE_TEXT.replace("test = true", "test = false")
    )
    assert "123456/1/VUDK" in message and "C33F45" in message
    # The attempt is in the operation log, named by key id and KCV only.
    [entry] = installation.operations("keys.import")
    assert entry["operator"] == "admin" and entry["outcome"] == "refused"
    detail = json.dumps(entry["detail"])
    assert "published_test_key" in detail and "abababababababab" not in detail


@pytest.mark.parametrize(("key", "dkga"), sorted(PUBLISHED.items()))
def test_every_published_test_key_is_refused(installation: Install, key: str, dkga: str) -> None:
    entry = production_entry(sgc="222222", key=key, dkga=dkga)
    message = _refused(installation, key_file(entry))
    assert f"222222/1/VUDK (KCV {entry['kcv']})" in message


def test_one_published_key_among_production_keys_refuses_the_file(installation: Install) -> None:
    text = key_file(
        production_entry(sgc="654321", krn=1),
        production_entry(sgc="654321", krn=2, key="abababababababab"),
        production_entry(sgc="654322", dkga="04", key=PRODUCTION_160_KEY),
    )
    assert "654321/2/VUDK" in _refused(installation, text)


def test_production_keys_and_test_keys_as_test_are_still_accepted(
    installation: Install, tmp_path_factory: pytest.TempPathFactory
) -> None:
    text = key_file(
        production_entry(sgc="654321", krn=1),
        production_entry(sgc="654322", dkga="04", key=PRODUCTION_160_KEY),
    )
    path = installation.write("production.toml", text)
    data = installation.json("keys", "import", str(path))
    assert [k["key_id"] for k in data["added"]] == ["654321/1/VUDK", "654322/1/VUDK"]
    assert data["test"] is False
    listed = installation.json("keys", "list")
    assert {k["test"] for k in listed} == {False} and len(listed) == 2
    [entry] = installation.operations("keys.import")
    assert entry["outcome"] == "ok"
    assert "654321/1/VUDK" in json.dumps(entry["detail"])

    # The same published keys in a TEST key file go into a TEST installation as before.
    other = tmp_path_factory.mktemp("test-install")
    test_inst = Install(other / "data", f"sqlite:///{other / 'data' / 'stsvend.db'}")
    test_inst.ok("init", "--admin", "admin")
    demo = test_inst.write("demo.toml", DEMO_KEY_FILE_TEXT)
    assert "5 key(s) added" in test_inst.ok("keys", "import", str(demo))
